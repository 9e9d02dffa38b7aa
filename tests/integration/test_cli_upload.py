"""A spoken consult recorded, uploaded live and transcribed, through the real command line.

Against the real local server on 127.0.0.1 (subprocess, faster-whisper tiny.en):
every chunk READY, chunk texts in order without duplicates, the final
transcript's word error rate within the bound, and the log file free of any
of the transcript's words.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import jiwer

from recorder import exit_codes
from recorder.logs import log_path
from recorder.spool import CHUNK_SUFFIX
from tests.cli_helpers import SAMPLE, SAMPLE_TEXT, run_cli

# tiny.en on espeak-ng speech measured 0.10-0.16 here (server tests); 0.30 leaves room for
# chunk cuts without letting a lost or duplicated minute (~0.35 of the words) pass.
WER_BOUND = 0.30


def _normalise(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _heidi_env(server: Any) -> dict[str, str]:
    return {
        "HEIDI_API_KEY": server.api_key,
        "HEIDI_EMAIL": "gp@practice.example",
        "HEIDI_USER_ID": "gp-7",
    }


def test_consult_recorded_uploaded_and_transcribed(tmp_path: Path, local_server: Any) -> None:
    data = tmp_path / "data"
    done = run_cli(
        data,
        "record",
        "--input",
        str(SAMPLE),
        "--speed",
        "8",
        "--consent",
        "--server",
        local_server.base_url,
        timeout=600,
        **_heidi_env(local_server),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    chunk_count = len(re.findall(r"^chunk \d+: [\d.]+ s, \d+ bytes$", out, re.M))
    assert chunk_count >= 3
    for index in range(chunk_count):
        assert f"chunk {index}: uploaded" in out
        assert f"chunk {index}: server READY" in out
    assert "FAILED" not in out
    transcript = out.split("--- transcript ---", 1)[1].split("\n---", 1)[0]
    assert re.search(r"^session \S+$", out, re.M)
    reference = _normalise(SAMPLE_TEXT.read_text())
    hypothesis = _normalise(transcript)
    wer = jiwer.wer(reference, hypothesis)
    print(f"WER through record --server: {wer:.3f}")
    assert wer <= WER_BOUND, wer
    # no duplicated text at chunk boundaries: as many words as were spoken, give or take
    assert abs(len(hypothesis.split()) - len(reference.split())) <= 0.15 * len(reference.split())

    spool = run_cli(data, "spool", "--json")
    assert '"done"' in spool.stdout

    # no patient data in logs: none of the consult's distinctive words appear
    log_text = log_path(data).read_text().lower()
    assert "chunk 0 committed" in log_text  # the log is really written
    assert "audit: start program=cli command=record version=" in log_text  # the audit trail
    assert "audit: transcript.final recording=" in log_text
    for word in ("doxycycline", "penicillin", "amlodipine", "phlegm", "crackles", "cough"):
        assert word not in log_text, word


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_down_at_stop_then_resume_completes(tmp_path: Path, local_server: Any) -> None:
    """Network down for the whole recording: audio stays queued; `resume` finishes it later."""
    data = tmp_path / "data"
    dead_url = f"http://127.0.0.1:{_closed_port()}/api/v2/ml-scribe/open-api"
    done = run_cli(
        data,
        "record",
        "--input",
        str(SAMPLE),
        "--speed",
        "0",
        "--duration",
        "50",
        "--server",
        dead_url,
        timeout=300,
        **_heidi_env(local_server),
        AMBIENT_RECORDER_OFFLINE_GRACE_S="3",
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "resume" in done.stderr
    resumed = run_cli(
        data,
        "resume",
        "--server",
        local_server.base_url,
        timeout=300,
        **_heidi_env(local_server),
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    listing = run_cli(data, "spool", "--json")
    assert '"done"' in listing.stdout, listing.stdout


def test_record_local_starts_the_embedded_server(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path / "data",
        "record",
        "--input",
        str(SAMPLE),
        "--speed",
        "0",
        "--duration",
        "20",
        "--local",
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "chunk 0: server READY" in done.stdout
    transcript = done.stdout.split("--- transcript ---", 1)[1]
    assert "morning" in transcript.lower()


def test_a_chunk_that_cannot_be_read_here_is_reported_as_such_and_kept(
    tmp_path: Path, local_server: Any
) -> None:
    """A damaged spool file is not 'rejected by the server': the error says what happened."""
    data = tmp_path / "data"
    recorded = run_cli(
        data, "record", "--input", str(SAMPLE), "--speed", "0", "--duration", "20", "--no-upload"
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    recording_id = recorded.stdout.strip().split()[-1]
    (chunk_file,) = (data / "spool" / recording_id).glob(f"*{CHUNK_SUFFIX}")
    damaged = bytearray(chunk_file.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    chunk_file.write_bytes(bytes(damaged))
    resumed = run_cli(
        data, "resume", "--server", local_server.base_url, timeout=300, **_heidi_env(local_server)
    )
    assert resumed.returncode == exit_codes.CHUNKS_REJECTED, resumed.stdout + resumed.stderr
    assert "chunk 0:" in resumed.stderr and "rejected by the server" not in resumed.stderr
    assert "decrypt" in resumed.stderr.lower() or "damaged" in resumed.stderr.lower()
    output = (resumed.stdout + resumed.stderr).lower()
    assert output.count("decrypt") == 1, output  # its reason once, in the `error:` line
    assert chunk_file.read_bytes() == bytes(damaged)  # kept as it was, for the user to decide
