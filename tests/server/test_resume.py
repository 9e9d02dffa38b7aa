"""A long whole-file upload on the real server: resumed at its next window after a kill, and
short chunks of other sessions transcribed between its windows.

The consult (~2.7 min) is 4 windows. What the server did is read from its log (one line per
window once its text is stored) and from its SQLite store, not from timing.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import CONSULT_OGG, Api

WINDOWS = 4  # of samples/consult.ogg (47.6 + 46.5 + 27.6 + 37.4 s)


def _upload(api: Api, session_id: str) -> str:
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("consult.ogg", CONSULT_OGG.read_bytes(), "audio/ogg")},
    )
    assert response.status_code == 200, response.text
    upload_id: str = response.json()["uploaded_audio"]["id"]
    return upload_id


def _log_since(server: LocalServerProcess, offset: int) -> str:
    return server.log_path.read_bytes()[offset:].decode("utf-8", "replace")


def _windows_logged(log: str, upload_id: str) -> list[tuple[int, str]]:
    """(window number, where it ends) for each window the server transcribed and stored."""
    pattern = rf"chunk {upload_id}: window (\d+) transcribed \(ends at ([\d.]+) s\)"
    return [(int(seq), end) for seq, end in re.findall(pattern, log)]


def _wait_for_log(server: LocalServerProcess, offset: int, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in _log_since(server, offset):
        assert time.monotonic() < deadline, f"not in the server log: {text}"
        time.sleep(0.05)


def _stored_windows(db_path: Path, upload_id: str) -> list[int]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT w.seq FROM chunk_windows w JOIN chunks c ON c.id = w.chunk_id"
            " WHERE c.public_id = ? ORDER BY w.seq",
            (upload_id,),
        ).fetchall()
    return [int(row[0]) for row in rows]


def test_a_long_upload_killed_mid_way_resumes_at_its_next_window(
    local_server: LocalServerProcess, api: Api
) -> None:
    # An uninterrupted run: the reference transcript and windows.
    offset = local_server.log_path.stat().st_size
    reference_session = api.new_session()
    reference_id = _upload(api, reference_session)
    reference = api.client.get(f"/sessions/{reference_session}/transcript")
    assert reference.status_code == 200, reference.text
    reference_windows = _windows_logged(_log_since(local_server, offset), reference_id)
    assert [seq for seq, _ in reference_windows] == list(range(WINDOWS))

    # The same file, the server killed (SIGKILL) once its first window is stored.
    offset = local_server.log_path.stat().st_size
    session_id = api.new_session()
    upload_id = _upload(api, session_id)
    api.live(session_id)  # a transcript GET queues the upload
    _wait_for_log(local_server, offset, f"chunk {upload_id}: window 0 transcribed")
    local_server.kill()
    before = _windows_logged(_log_since(local_server, offset), upload_id)
    stored = _stored_windows(local_server.data_dir / "server.sqlite3", upload_id)
    assert 1 <= len(before) < WINDOWS and stored == [seq for seq, _ in before]

    local_server.start()
    final = api.client.get(f"/sessions/{session_id}/transcript")
    assert final.status_code == 200, final.text
    log = _log_since(local_server, offset)
    assert f"chunk {upload_id}: resuming after {len(before)} window(s)" in log
    after = _windows_logged(log, upload_id)[len(before) :]
    print(f"windows done before the kill: {len(before)}, after the restart: {len(after)}")
    # Every window transcribed once: none again after the restart, none missing.
    assert before + after == reference_windows
    assert re.search(
        rf"chunk {upload_id} READY \([\d.]+ s of audio, {WINDOWS} window\(s\), {len(before)} kept",
        log,
    )
    assert final.json()["transcript"] == reference.json()["transcript"]
    assert _stored_windows(local_server.data_dir / "server.sqlite3", upload_id) == []


def test_short_chunks_of_other_sessions_are_transcribed_between_its_windows(
    local_server: LocalServerProcess, api: Api, short_chunks: list[bytes]
) -> None:
    offset = local_server.log_path.stat().st_size
    long_session = api.new_session()
    upload_id = _upload(api, long_session)
    api.live(long_session)  # queued: the worker starts on it
    _wait_for_log(local_server, offset, f"chunk {upload_id}: window 0 transcribed")

    live_session = api.new_session()
    recording_id = api.new_recording(live_session)
    assert api.send_chunk(live_session, recording_id, 0, short_chunks[0]).status_code == 200
    live = api.wait_settled(live_session)
    assert [c["status"] for c in live["chunks"]] == ["READY"] and live["transcript"]
    # The live chunk did not wait for the whole upload: that is still being transcribed.
    assert [c["status"] for c in api.live(long_session)["chunks"]] == ["PENDING"]
    log = _log_since(local_server, offset)
    done_first = _windows_logged(log[: log.index(f"chunk {recording_id}-0 READY")], upload_id)
    assert 1 <= len(done_first) < WINDOWS

    final = api.client.get(f"/sessions/{long_session}/transcript")
    assert final.status_code == 200 and final.json()["transcript"]
    windows = _windows_logged(_log_since(local_server, offset), upload_id)
    assert [seq for seq, _ in windows] == list(range(WINDOWS))
