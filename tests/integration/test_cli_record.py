"""`ambient-recorder record / spool / export` end to end, in real subprocesses, on real files.

The sample consult (159 s, two espeak-ng voices) is played as the microphone,
chunked, encoded, encrypted and spooled; `export` must give back audio whose
concatenated length is exactly the input's (no sample lost or repeated).
"""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from recorder import exit_codes
from recorder.logs import log_path
from tests.cli_helpers import SAMPLE, Lines, run_cli, start_record, wait_journaled
from tests.fixtures.tiny_disk import tiny_tmpfs

CHUNK_LINE = re.compile(r"^chunk (\d+): ([\d.]+) s, (\d+) bytes$", re.M)


def _recording_id(stdout: str) -> str:
    last = stdout.strip().splitlines()[-1]
    match = re.search(r"recording ([0-9a-f-]{36})$", last)
    assert match, f"last line does not end with a recording id: {last!r}"
    return match.group(1)


def test_record_file_no_upload_then_spool_and_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = run_cli(data, "record", "--input", str(SAMPLE), "--speed", "0", "--no-upload")
    assert done.returncode == 0, done.stderr
    chunks = [(int(i), float(d), int(b)) for i, d, b in CHUNK_LINE.findall(done.stdout)]
    assert [c[0] for c in chunks] == list(range(len(chunks)))
    assert 3 <= len(chunks) <= 4  # 159 s: cuts at the quietest moment between 45 and 60 s
    assert abs(sum(c[1] for c in chunks) - sf.info(str(SAMPLE)).duration) < 0.01
    for _, duration, size in chunks[:-1]:
        assert 45.0 <= duration <= 60.0
        assert size > 10_000
    rid = _recording_id(done.stdout)

    listing = run_cli(data, "spool", "--json")
    assert listing.returncode == 0, listing.stderr
    recordings = json.loads(listing.stdout)
    rec = next(
        r
        for r in (recordings if isinstance(recordings, list) else recordings["recordings"])
        if r["recording_id"] == rid
    )
    assert rec["state"] == "recorded"
    assert [c["state"] for c in rec["chunks"]] == ["queued"] * len(chunks)

    out = tmp_path / "export"
    exported = run_cli(data, "export", rid, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    audit_lines = [line for line in log_path(data).read_text().splitlines() if "audit: " in line]
    assert audit_lines[-1].endswith(f"audit: audio.exported recording={rid} chunks={len(chunks)}")
    files = sorted(out.glob("*.ogg"))
    assert len(files) == len(chunks)
    total = sum(sf.info(str(f)).frames for f in files)
    assert total == sf.info(str(SAMPLE)).frames
    for f, (_, duration, _) in zip(files, chunks, strict=True):
        assert abs(sf.info(str(f)).duration - duration) < 0.01

    # the spool itself holds no playable audio: every chunk file is encrypted
    for enc in (data / "spool" / rid).glob("*"):
        if enc.is_file() and enc.suffix != ".lock":
            try:
                sf.info(str(enc))
            except RuntimeError:
                continue
            raise AssertionError(f"{enc.name} decodes as audio without the key")


def test_record_duration_limit(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path / "d",
        "record",
        "--input",
        str(SAMPLE),
        "--speed",
        "0",
        "--duration",
        "12.5",
        "--no-upload",
    )
    assert done.returncode == 0, done.stderr
    (line,) = CHUNK_LINE.findall(done.stdout)
    assert abs(float(line[1]) - 12.5) < 0.01


def test_bad_inputs_give_clear_errors_and_no_traceback(tmp_path: Path) -> None:
    not_audio = tmp_path / "notes.ogg"
    not_audio.write_text("this is not audio")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    cases = {
        "missing": tmp_path / "nope.ogg",
        "not audio": not_audio,
        "empty": empty,
        "directory": tmp_path,
    }
    for label, path in cases.items():
        done = run_cli(tmp_path / "d", "record", "--input", str(path), "--no-upload")
        assert done.returncode == 6, (label, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, label
        assert done.stderr.startswith("error:") or "\nerror:" in done.stderr, (label, done.stderr)


def test_unknown_recording_export_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "d", "export", "0000-not-a-recording", "--out", str(tmp_path / "o"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "0000-not-a-recording" in done.stderr


def test_kill_9_mid_recording_then_any_command_recovers(tmp_path: Path) -> None:
    """SIGKILL a real recording process; the next command recovers everything it had on disk."""
    data = tmp_path / "data"
    proc = start_record(data, "--input", str(SAMPLE), "--speed", "10", "--no-upload")
    try:
        # Killed once a chunk is committed (45-60 s) and the journal holds 2 s of the next.
        held = wait_journaled(proc, data, 2.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    listing = run_cli(data, "spool", "--json")
    assert listing.returncode == 0, listing.stderr
    assert "recovered interrupted recording" in listing.stderr
    recordings = json.loads(listing.stdout)
    recs = recordings if isinstance(recordings, list) else recordings["recordings"]
    (rec,) = recs
    assert rec["state"] == "interrupted"
    chunks = rec["chunks"]
    assert len(chunks) >= 2
    recovered_s = sum(c["duration_s"] for c in chunks)
    # every journal record written before the kill survives it (os.write, no buffer to lose)
    assert recovered_s >= held / 16_000 - 0.002, (recovered_s, held / 16_000)
    out_dir = tmp_path / "export"
    assert run_cli(data, "export", rec["recording_id"], "--out", str(out_dir)).returncode == 0
    exported = np.concatenate(
        [sf.read(str(f), dtype="float32")[0] for f in sorted(out_dir.glob("*.ogg"))]
    )
    original, _ = sf.read(str(SAMPLE), dtype="float32", frames=len(exported))
    assert len(exported) == len(original)
    # lossy codec: compare as correlation, which fails if anything is shifted or repeated
    corr = float(np.corrcoef(exported, original)[0, 1])
    assert corr > 0.95, corr


def test_ctrl_c_stops_cleanly_and_keeps_the_last_chunk(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) mid-recording: exit 0, the shorter last chunk flushed, nothing lost."""
    data = tmp_path / "data"
    proc = start_record(data, "--input", str(SAMPLE), "--speed", "10", "--no-upload")
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)
    stdout.wait_for("chunk 0: ", 120)  # one full chunk committed; the next one under way
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    out, err = stdout.rest(), stderr.rest()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    chunks = [(int(i), float(d)) for i, d, _ in CHUNK_LINE.findall(out)]
    assert len(chunks) >= 2
    rid = _recording_id(out)
    listing = json.loads(run_cli(data, "spool", "--json").stdout)
    recs = listing if isinstance(listing, list) else listing["recordings"]
    (rec,) = [r for r in recs if r["recording_id"] == rid]
    assert rec["state"] == "recorded"
    assert abs(sum(c["duration_s"] for c in rec["chunks"]) - sum(d for _, d in chunks)) < 0.01
    assert 45 <= chunks[0][1] <= 60 and chunks[-1][1] < 45


def test_disk_full_mid_recording_exits_7_with_a_clear_message(tmp_path: Path) -> None:
    """A real 3 MB tmpfs as the data folder: the recording stops cleanly, chunks kept."""
    with tiny_tmpfs(tmp_path / "mnt", "3m") as mount:
        data = mount / "data"
        done = run_cli(data, "record", "--input", str(SAMPLE), "--speed", "0", "--no-upload")
        assert done.returncode == 7, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert "full" in done.stderr and "is kept" in done.stderr, done.stderr
        listing = run_cli(data, "spool", "--json")
        assert listing.returncode == 0, listing.stderr
        recs = json.loads(listing.stdout)
        recs = recs if isinstance(recs, list) else recs["recordings"]
        (rec,) = recs
        out = tmp_path / "export"
        exported = run_cli(data, "export", rec["recording_id"], "--out", str(out))
        assert exported.returncode == 0, exported.stderr
        for chunk_file in out.glob("*.ogg"):  # whatever was committed still decodes
            assert sf.info(str(chunk_file)).frames > 0


@pytest.mark.vmic
def test_the_lost_microphone_wait_comes_from_the_settings(
    tmp_path: Path, private_pulse: Any
) -> None:
    """reconnect_minutes (Settings) bounds the wait for a lost microphone; the audio is kept."""
    data = tmp_path / "data"
    config = data.parent / (data.name + "-config")  # where cli_env points the settings
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"reconnect_minutes": 0.05}))
    proc = start_record(data, "--device", "pulse", "--no-upload")
    time.sleep(2.0)
    private_pulse.kill()  # the headset is unplugged for good
    out, err = proc.communicate(timeout=90)  # the default (10 min) would time out here
    assert proc.returncode == exit_codes.AUDIO_INPUT, out + err
    assert "reconnecting" in err.lower() or "lost" in err.lower(), err
    assert re.search(r"^\d+ chunks, [\d.]+ s recorded: recording \S+$", out, re.M), out
