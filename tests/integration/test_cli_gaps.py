"""The command line is honest about gaps (microphone lost): spool, export, resume, transcript.

A recording in a real spool gets its gaps through `recorder.gaps.save_gap`, the storage the
session itself uses (the session's saving is tested in test_session_reconnect.py). Every
command runs as a real subprocess; the transcripts come from the real local server.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf

from recorder import exit_codes
from recorder.events import AudioGap
from recorder.gaps import save_gap
from recorder.spool import Spool
from recorder.states import RecordingState
from tests.cli_helpers import run_cli
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import EMAIL, USER_ID, record_consult, words

FIRST_MARKER = "[no audio for 12 s: microphone lost]"
LAST_MARKER = "[no audio for 1 min 15 s: microphone lost]"


@dataclass(frozen=True)
class Recorded:
    data: Path
    gapped: str  # a recording with a gap after chunk 0 and one after its last chunk
    plain: str  # a recording without gaps
    chunks: int  # of the gapped one


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """A spool with a recording that lost its microphone twice, and one that did not."""
    data = tmp_path_factory.mktemp("gaps") / "data"
    with Spool.open(data) as spool:
        gapped = record_consult(spool, 24, chunk_s=8)
        plain = record_consult(spool, 5, chunk_s=8, start_s=30)
        chunks = spool.chunks(gapped)
        start = time.time() - 600
        save_gap(spool, AudioGap(gapped, 1, chunks[0].duration_s, start, 12.4, "microphone lost"))
        recorded_s = sum(c.duration_s for c in chunks)
        save_gap(
            spool, AudioGap(gapped, len(chunks), recorded_s, start + 60, 75.0, "microphone lost")
        )
    return Recorded(data, gapped, plain, len(chunks))


def copy_of(recorded: Recorded, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(recorded.data, data)
    return data


def run(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(data, *args, timeout=240, **env)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# -- spool --------------------------------------------------------------------------------------


def test_spool_lists_each_recordings_gaps(recorded: Recorded) -> None:
    listing = run(recorded.data, "spool", "--json")
    assert listing.returncode == 0, listing.stderr
    by_id = {r["recording_id"]: r for r in json.loads(listing.stdout)["recordings"]}
    gapped, plain = by_id[recorded.gapped], by_id[recorded.plain]
    assert len(gapped["chunks"]) == recorded.chunks  # the existing fields are still there
    assert gapped["state"] == "recorded" and gapped["chunk_counts"] == {"queued": recorded.chunks}
    assert [g["before_chunk"] for g in gapped["gaps"]] == [1, recorded.chunks]
    assert [g["duration_s"] for g in gapped["gaps"]] == [12.4, 75.0]
    assert {g["reason"] for g in gapped["gaps"]} == {"microphone lost"}
    assert [g["marker"] for g in gapped["gaps"]] == [FIRST_MARKER, LAST_MARKER]
    assert gapped["gaps"][1]["started_at"] - gapped["gaps"][0]["started_at"] == 60
    assert gapped["gaps_total_s"] == 87.4
    assert plain["gaps"] == [] and plain["gaps_total_s"] == 0

    table = run(recorded.data, "spool")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    header = next(line for line in lines if line.startswith(recorded.gapped))
    assert "2 gaps, 1 min 27 s without audio (microphone lost)" in header
    plain_header = next(line for line in lines if line.startswith(recorded.plain))
    assert "gap" not in plain_header
    # the markers stand among the chunk lines where the audio is missing
    at = lines.index(header)
    body = [line.strip() for line in lines[at + 1 : at + 1 + recorded.chunks + 2]]
    assert body[0].startswith("000 ")
    assert body[1] == FIRST_MARKER
    assert body[2].startswith("001 ")
    assert body[-2].startswith(f"{recorded.chunks - 1:03d} ")
    assert body[-1] == LAST_MARKER


# -- export -------------------------------------------------------------------------------------


def test_export_writes_the_gaps_beside_the_audio_and_warns(
    recorded: Recorded, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run(recorded.data, "export", recorded.gapped, "--out", str(out))
    assert done.returncode == exit_codes.OK, done.stderr
    oggs = sorted(out.glob("*.ogg"))
    assert [f.name for f in oggs] == [f"{i:03d}.ogg" for i in range(recorded.chunks)]
    assert all(sf.info(str(f)).frames > 0 for f in oggs)
    assert {p.name for p in out.iterdir()} == {f.name for f in oggs} | {"gaps.txt", "gaps.json"}
    assert str(out / "gaps.txt") in done.stdout.splitlines()

    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    last = f"{recorded.chunks - 1:03d}.ogg"
    assert any(FIRST_MARKER in w and "between 000.ogg and 001.ogg" in w for w in warnings)
    assert any(LAST_MARKER in w and f"after {last}" in w for w in warnings)
    assert any("2 gaps, 1 min 27 s without audio" in w for w in warnings)

    text = (out / "gaps.txt").read_text()
    assert recorded.gapped in text
    assert f"{FIRST_MARKER} between 000.ogg and 001.ogg" in text
    assert f"{LAST_MARKER} after {last}" in text
    kept = json.loads((out / "gaps.json").read_text())
    assert kept["recording_id"] == recorded.gapped
    assert [(g["before_chunk"], g["duration_s"]) for g in kept["gaps"]] == [
        (1, 12.4),
        (recorded.chunks, 75.0),
    ]

    again = run(recorded.data, "export", recorded.gapped, "--out", str(out))
    assert again.returncode == exit_codes.OK, again.stderr  # the same files: nothing refused


def test_export_never_overwrites_another_gaps_file(recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "gaps.txt").write_text("notes of another export\n")
    done = run(recorded.data, "export", recorded.gapped, "--out", str(out))
    assert done.returncode == exit_codes.USAGE, done.stderr
    assert "gaps.txt already exists" in done.stderr
    assert [p.name for p in out.iterdir()] == ["gaps.txt"]
    assert (out / "gaps.txt").read_text() == "notes of another export\n"


def test_export_without_gaps_writes_only_audio(recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run(recorded.data, "export", recorded.plain, "--out", str(out))
    assert done.returncode == exit_codes.OK, done.stderr
    assert [p.name for p in out.iterdir()] == ["000.ogg"]
    assert "no audio" not in done.stderr and "without audio" not in done.stderr


# -- resume and transcript, against the real local server ---------------------------------------


@dataclass(frozen=True)
class Uploaded:
    data: Path
    session_id: str
    resume_stdout: str
    env: dict[str, str]
    server_url: str


@pytest.fixture(scope="module")
def uploaded(
    recorded: Recorded,
    local_server: LocalServerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Uploaded:
    """The recordings resumed (uploaded, finished, transcribed) by `ambient-recorder resume`."""
    data = tmp_path_factory.mktemp("uploaded") / "data"
    shutil.copytree(recorded.data, data)
    env = {"HEIDI_API_KEY": local_server.api_key, "HEIDI_EMAIL": EMAIL, "HEIDI_USER_ID": USER_ID}
    done = run(data, "resume", "--server", local_server.base_url, "--timeout", "180", **env)
    assert done.returncode == exit_codes.OK, done.stdout + done.stderr
    with Spool.open(data) as spool:
        session_id = spool.recording(recorded.gapped).session_id
    assert session_id
    return Uploaded(data, session_id, done.stdout, env, local_server.base_url)


def transcripts(stdout: str) -> list[str]:
    return re.findall(r"--- transcript ---\n(.*?)\n---\n", stdout, re.S)


def live_chunks(uploaded: Uploaded) -> list[dict[str, object]]:
    done = run(
        uploaded.data,
        "transcript",
        uploaded.session_id,
        "--live",
        "--json",
        "--server",
        uploaded.server_url,
        **uploaded.env,
    )
    assert done.returncode == exit_codes.OK, done.stderr
    chunks: list[dict[str, object]] = json.loads(done.stdout)["chunks"]
    return chunks


def test_resume_prints_the_final_transcript_with_the_gaps_where_they_fell(
    recorded: Recorded, uploaded: Uploaded
) -> None:
    chunks = live_chunks(uploaded)
    assert [c["index"] for c in chunks] == list(range(recorded.chunks))
    assert all(c["status"] == "READY" for c in chunks)
    # resume prints the gapped recording first (oldest), then the one without gaps
    gapped, plain = transcripts(uploaded.resume_stdout)
    paragraphs = gapped.split("\n\n")
    texts = [str(c["text"]).strip() for c in chunks]
    assert paragraphs == [texts[0], FIRST_MARKER, *texts[1:], LAST_MARKER]
    assert "morning" in words(paragraphs[0])  # the consult's first words come before the gap
    assert "no audio" not in plain and plain.strip()  # no gap, no marker: the server's text


def test_transcript_command_marks_the_gaps_of_a_spool_recording(
    recorded: Recorded, uploaded: Uploaded
) -> None:
    args = ("transcript", uploaded.session_id, "--server", uploaded.server_url)
    final = run(uploaded.data, *args, **uploaded.env)
    assert final.returncode == exit_codes.OK, final.stderr
    (resumed, _) = transcripts(uploaded.resume_stdout)
    assert final.stdout.strip() == resumed.strip()  # the same text as printed after recording

    as_json = run(uploaded.data, *args, "--json", **uploaded.env)
    assert as_json.returncode == exit_codes.OK, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["final"] is True and body["transcript"].strip() == resumed.strip()
    assert [(g["before_chunk"], g["duration_s"], g["reason"]) for g in body["gaps"]] == [
        (1, 12.4, "microphone lost"),
        (recorded.chunks, 75.0, "microphone lost"),
    ]
    assert all(isinstance(g["started_at"], float) and g["started"] for g in body["gaps"])

    live = run(uploaded.data, *args, "--live", **uploaded.env)
    assert live.returncode == exit_codes.OK, live.stderr
    lines = live.stdout.strip().splitlines()
    assert lines[0].startswith("[0] READY") and lines[1] == FIRST_MARKER
    assert lines[2].startswith("[1] READY") and lines[-1] == LAST_MARKER
    assert len(lines) == recorded.chunks + 2

    follow = run(
        uploaded.data, *args, "--live", "--follow", "--timeout", "1", "--json", **uploaded.env
    )
    assert follow.returncode == exit_codes.OK, follow.stderr
    first = json.loads(follow.stdout.splitlines()[0])
    assert [g["marker"] for g in first["gaps"]] == [FIRST_MARKER, LAST_MARKER]
    assert first["transcript"].split("\n\n")[1] == FIRST_MARKER


def test_transcript_of_an_earlier_session_of_a_recording_sent_again_marks_its_gaps(
    recorded: Recorded,
    uploaded: Uploaded,
    make_local_server: Callable[..., LocalServerProcess],
    tmp_path: Path,
) -> None:
    """The app moved to another server before fetching the final transcript: that server does
    not know the session, so the recording is sent again to a new one. The first session's id
    (still on the first server) must still find the recording, and so its gaps."""
    data = tmp_path / "data"
    shutil.copytree(uploaded.data, data)
    with Spool.open(data) as spool:
        first_remote = spool.recording(recorded.gapped).remote_recording_id
        spool.set_recording_state(recorded.gapped, RecordingState.FINISHED)  # final not fetched
    other = make_local_server()
    moved = run(data, "resume", "--server", other.base_url, "--timeout", "180", **uploaded.env)
    assert moved.returncode == exit_codes.OK, moved.stdout + moved.stderr
    with Spool.open(data) as spool:
        new_session = spool.recording(recorded.gapped).session_id
    assert new_session and new_session != uploaded.session_id  # really sent again

    args = ("transcript", uploaded.session_id, "--server", uploaded.server_url)
    old = run(data, *args, "--json", **uploaded.env)
    assert old.returncode == exit_codes.OK, old.stderr
    body = json.loads(old.stdout)
    assert body["gaps"] is not None, "the earlier session id did not find its recording"
    assert [g["marker"] for g in body["gaps"]] == [FIRST_MARKER, LAST_MARKER]
    (resumed, _) = transcripts(uploaded.resume_stdout)
    assert body["transcript"].strip() == resumed.strip()  # markers where they fell, as before
    assert f"sent again as session {new_session}" in old.stderr

    with Spool.open(data) as spool:  # the spool keeps the earlier session beside the new one
        assert spool.earlier_sessions(recorded.gapped) == [(uploaded.session_id, first_remote)]


def test_transcript_of_a_session_not_in_our_spool_says_nothing_of_gaps(
    uploaded: Uploaded, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"  # another machine's data folder: no spool at all
    args = ("transcript", uploaded.session_id, "--server", uploaded.server_url)
    final = run(elsewhere, *args, **uploaded.env)
    assert final.returncode == exit_codes.OK, final.stderr
    assert final.stdout.strip() and "no audio" not in final.stdout
    assert "no audio" not in final.stderr and "has gaps" not in final.stderr
    body = json.loads(run(elsewhere, *args, "--json", **uploaded.env).stdout)
    assert body["gaps"] is None and "no audio" not in body["transcript"]
    live = json.loads(run(elsewhere, *args, "--live", "--json", **uploaded.env).stdout)
    assert live["gaps"] is None and len(live["chunks"]) >= 3
    assert not (elsewhere / "spool.db").exists()  # asking never creates a spool


def test_resume_that_cannot_reach_the_server_still_names_the_gaps(
    recorded: Recorded, tmp_path: Path
) -> None:
    data = copy_of(recorded, tmp_path)
    done = run(
        data,
        "resume",
        "--server",
        "http://127.0.0.1:9/api",
        "--timeout",
        "20",
        HEIDI_API_KEY="test-api-key-0123456789",
        HEIDI_EMAIL=EMAIL,
        HEIDI_USER_ID=USER_ID,
        AMBIENT_RECORDER_OFFLINE_GRACE_S="0",
    )
    assert done.returncode == exit_codes.SERVER_UNREACHABLE, done.stdout + done.stderr
    assert "--- transcript ---" not in done.stdout
    named = [line for line in done.stderr.splitlines() if recorded.gapped in line]
    assert any(FIRST_MARKER in line and "before chunk 1" in line for line in named)
    assert any(LAST_MARKER in line for line in named)
