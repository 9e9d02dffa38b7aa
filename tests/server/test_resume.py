"""A long whole-file upload on the real server: resumed at its next window after a kill, and
short chunks of other sessions transcribed between its windows.

The consult (~2.7 min) is 4 windows. What the server did is read from its log (one line per
window once its text is stored) and from its SQLite store, not from timing. One uninterrupted
run (a live chunk of another session sent once its first window is done) is both the test of
the short chunks going between its windows and the reference for the run killed mid-way.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import CONSULT_OGG, Api, api_for, log_since, wait_for_log

WINDOWS = 4  # of samples/consult.ogg (47.6 + 46.5 + 27.6 + 37.4 s)


def _upload(api: Api, session_id: str) -> str:
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("consult.ogg", CONSULT_OGG.read_bytes(), "audio/ogg")},
    )
    assert response.status_code == 200, response.text
    upload_id: str = response.json()["uploaded_audio"]["id"]
    return upload_id


def _windows_logged(log: str, upload_id: str) -> list[tuple[int, str]]:
    """(window number, where it ends) for each window the server transcribed and stored."""
    pattern = rf"chunk {upload_id}: window (\d+) transcribed \(ends at ([\d.]+) s\)"
    return [(int(seq), end) for seq, end in re.findall(pattern, log)]


def _stored_windows(db_path: Path, upload_id: str) -> list[int]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT w.seq FROM chunk_windows w JOIN chunks c ON c.id = w.chunk_id"
            " WHERE c.public_id = ? ORDER BY w.seq",
            (upload_id,),
        ).fetchall()
    return [int(row[0]) for row in rows]


@dataclass(frozen=True)
class UninterruptedRun:
    """The consult uploaded whole and transcribed with no restart; a live chunk of another
    session was sent once the upload's first window was done."""

    upload_id: str
    transcript: str  # the upload's final transcript
    log: str  # the server log from the upload to the upload's READY line
    statuses_midway: list[str]  # the upload's live statuses once its first window was done
    live_recording_id: str
    live: dict[str, Any]  # the live session's transcript once its chunk settled


@pytest.fixture(scope="module")
def uninterrupted(
    local_server: LocalServerProcess, short_chunks: list[bytes]
) -> Iterator[UninterruptedRun]:
    api = api_for(
        local_server.base_url,
        local_server.api_key,
        email=f"{uuid.uuid4().hex[:8]}@example.org",
        user_id=uuid.uuid4().hex,
    )
    try:
        offset = local_server.log_path.stat().st_size
        long_session = api.new_session()
        upload_id = _upload(api, long_session)
        api.live(long_session)  # a transcript GET queues the upload: the worker starts on it
        wait_for_log(local_server.log_path, f"chunk {upload_id}: window 0 transcribed", offset)
        midway = [c["status"] for c in api.live(long_session)["chunks"]]

        live_session = api.new_session()
        recording_id = api.new_recording(live_session)
        assert api.send_chunk(live_session, recording_id, 0, short_chunks[0]).status_code == 200
        live = api.wait_settled(live_session)

        final = api.client.get(f"/sessions/{long_session}/transcript")
        assert final.status_code == 200, final.text
        # its READY line is written just after the chunk reads READY
        log = wait_for_log(local_server.log_path, f"chunk {upload_id} READY", offset)
        yield UninterruptedRun(
            upload_id, final.json()["transcript"], log, midway, recording_id, live
        )
    finally:
        api.client.close()


def test_a_long_upload_killed_mid_way_resumes_at_its_next_window(
    local_server: LocalServerProcess, api: Api, uninterrupted: UninterruptedRun
) -> None:
    # The uninterrupted run's windows and transcript are the reference.
    reference_windows = _windows_logged(uninterrupted.log, uninterrupted.upload_id)
    assert [seq for seq, _ in reference_windows] == list(range(WINDOWS))

    # The same file, the server killed (SIGKILL) once its first window is stored.
    offset = local_server.log_path.stat().st_size
    session_id = api.new_session()
    upload_id = _upload(api, session_id)
    api.live(session_id)  # a transcript GET queues the upload
    wait_for_log(local_server.log_path, f"chunk {upload_id}: window 0 transcribed", offset)
    local_server.kill()
    before = _windows_logged(log_since(local_server.log_path, offset), upload_id)
    stored = _stored_windows(local_server.data_dir / "server.sqlite3", upload_id)
    assert 1 <= len(before) < WINDOWS and stored == [seq for seq, _ in before]

    local_server.start()
    final = api.client.get(f"/sessions/{session_id}/transcript")
    assert final.status_code == 200, final.text
    log = wait_for_log(local_server.log_path, f"chunk {upload_id} READY", offset)
    assert f"chunk {upload_id}: resuming after {len(before)} window(s)" in log
    after = _windows_logged(log, upload_id)[len(before) :]
    print(f"windows done before the kill: {len(before)}, after the restart: {len(after)}")
    # Every window transcribed once: none again after the restart, none missing.
    assert before + after == reference_windows
    assert re.search(
        rf"chunk {upload_id} READY \([\d.]+ s of audio, {WINDOWS} window\(s\), {len(before)} kept",
        log,
    )
    assert final.json()["transcript"] == uninterrupted.transcript
    assert _stored_windows(local_server.data_dir / "server.sqlite3", upload_id) == []


def test_short_chunks_of_other_sessions_are_transcribed_between_its_windows(
    uninterrupted: UninterruptedRun,
) -> None:
    run = uninterrupted
    # Part-way through (its first window stored) the upload still reads PENDING.
    assert run.statuses_midway == ["PENDING"]
    assert [c["status"] for c in run.live["chunks"]] == ["READY"] and run.live["transcript"]
    # The live chunk did not wait for the whole upload: it was done between two of its windows.
    live_ready = run.log.index(f"chunk {run.live_recording_id}-0 READY")
    done_first = _windows_logged(run.log[:live_ready], run.upload_id)
    assert 1 <= len(done_first) < WINDOWS
    assert run.transcript
    assert [seq for seq, _ in _windows_logged(run.log, run.upload_id)] == list(range(WINDOWS))
