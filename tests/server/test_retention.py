"""Retention: idle sessions are dropped with their transcripts; waiting chunks never are.

Real SQLite files and real audio files; time is a clock the tests move, never a sleep.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.retention import RetentionPurger
from server.store import SessionGone, Store
from tests.fixtures.local_server import REPO_ROOT
from tests.server.support import api_for, wait_until
from tests.server.test_bad_input import assert_error

HOUR = 3600.0
SECRET_WORDS = "the patient reports chest pain since tuesday"


class Clock:
    """Seconds that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += hours * HOUR


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Store:
    return Store(tmp_path / "server.sqlite3", clock)


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "audio"
    folder.mkdir()
    return folder


def _purger(store: Store, audio_dir: Path, clock: Clock, hours: float = 24.0) -> RetentionPurger:
    return RetentionPurger(store, audio_dir, hours, clock=clock)


def _queued_chunk(store: Store, audio_dir: Path, session_id: str, name: str) -> str:
    (audio_dir / name).write_bytes(b"OggS audio of the consult")
    recording_id = store.create_recording(session_id)
    store.put_segment(session_id, recording_id, 0, name, 50.0)
    return recording_id


def _transcribe_next(store: Store, audio_dir: Path, text: str) -> None:
    """What a worker does with a claimed chunk: record the text, delete the audio."""
    job = store.claim()
    assert job is not None
    assert store.complete(job, text, 50.0)
    (audio_dir / job.audio_file).unlink()


def test_an_idle_session_is_dropped_after_the_retention_period_and_not_before(
    store: Store, audio_dir: Path, clock: Clock
) -> None:
    purger = _purger(store, audio_dir, clock)
    session_id = store.create_session("owner", {"ehr_patient_id": "pt-42"})
    _queued_chunk(store, audio_dir, session_id, "a.audio")
    _transcribe_next(store, audio_dir, SECRET_WORDS)

    clock.advance(23.9)
    assert purger.purge_once() == 0
    assert store.get_session("owner", session_id) is not None
    assert [c.text for c in store.chunks_of(session_id)] == [SECRET_WORDS]

    clock.advance(0.2)
    assert purger.purge_once() == 1
    assert store.get_session("owner", session_id) is None
    assert store.chunks_of(session_id) == []
    assert purger.purge_once() == 0


def test_a_session_with_a_chunk_waiting_to_be_transcribed_is_never_dropped(
    store: Store, audio_dir: Path, clock: Clock
) -> None:
    purger = _purger(store, audio_dir, clock)
    session_id = store.create_session("owner", {})
    _queued_chunk(store, audio_dir, session_id, "waiting.audio")
    clock.advance(24 * 30)  # a month with the transcriber down
    assert purger.purge_once() == 0
    assert (audio_dir / "waiting.audio").read_bytes() == b"OggS audio of the consult"
    assert store.count_pending(session_id) == 1

    job = store.claim()  # WORKING counts as waiting too
    assert job is not None
    clock.advance(48)
    assert purger.purge_once() == 0 and (audio_dir / "waiting.audio").exists()

    assert store.complete(job, "words", 50.0)  # retention now runs from this result
    (audio_dir / "waiting.audio").unlink()
    clock.advance(23)
    assert purger.purge_once() == 0
    clock.advance(2)
    assert purger.purge_once() == 1


def test_a_lazy_upload_not_yet_asked_for_keeps_its_session(
    store: Store, audio_dir: Path, clock: Clock
) -> None:
    purger = _purger(store, audio_dir, clock)
    session_id = store.create_session("owner", {})
    (audio_dir / "whole.audio").write_bytes(b"audio")
    store.put_upload(session_id, "whole.audio", 600.0)
    clock.advance(100)
    assert purger.purge_once() == 0
    assert (audio_dir / "whole.audio").exists()


def test_every_write_to_a_session_restarts_its_retention(
    store: Store, audio_dir: Path, clock: Clock
) -> None:
    purger = _purger(store, audio_dir, clock)
    session_id = store.create_session("owner", {})
    clock.advance(20)
    store.update_session("owner", session_id, {"duration": 60})
    clock.advance(20)
    recording_id = store.create_recording(session_id)
    clock.advance(20)
    store.finish_recording(recording_id)
    clock.advance(20)
    assert purger.purge_once() == 0
    clock.advance(5)
    assert purger.purge_once() == 1


def test_audio_still_tied_to_a_dropped_session_is_deleted_and_other_files_are_not(
    store: Store, audio_dir: Path, clock: Clock
) -> None:
    """A final chunk whose file survived (crash between commit and delete) goes with it."""
    purger = _purger(store, audio_dir, clock)
    old = store.create_session("owner", {})
    _queued_chunk(store, audio_dir, old, "left-behind.audio")
    job = store.claim()
    assert job is not None and store.fail(job, "damaged")  # file not deleted: a crash
    clock.advance(12)
    recent = store.create_session("owner", {})
    _queued_chunk(store, audio_dir, recent, "recent.audio")
    (audio_dir / "upload-in-flight.part").write_bytes(b"being received")
    clock.advance(13)
    assert purger.purge_once() == 1
    assert sorted(p.name for p in audio_dir.iterdir()) == [
        "recent.audio",
        "upload-in-flight.part",
    ]
    assert store.get_session("owner", recent) is not None


def test_dropped_transcripts_are_not_left_readable_in_the_database_files(
    tmp_path: Path, store: Store, audio_dir: Path, clock: Clock
) -> None:
    purger = _purger(store, audio_dir, clock)
    session_id = store.create_session("owner", {"ehr_patient_id": "pt-secret-77"})
    _queued_chunk(store, audio_dir, session_id, "a.audio")
    _transcribe_next(store, audio_dir, SECRET_WORDS)
    clock.advance(25)
    assert purger.purge_once() == 1
    store.close()
    for path in tmp_path.glob("server.sqlite3*"):
        data = path.read_bytes()
        assert SECRET_WORDS.encode() not in data, path.name
        assert b"pt-secret-77" not in data, path.name


def test_writing_to_a_session_dropped_meanwhile_is_session_gone(
    store: Store, audio_dir: Path, clock: Clock
) -> None:
    """The request checked the session, then retention dropped it before the write."""
    purger = _purger(store, audio_dir, clock)
    session_id = store.create_session("owner", {})
    recording_id = store.create_recording(session_id)
    clock.advance(25)
    assert purger.purge_once() == 1
    with pytest.raises(SessionGone):
        store.put_segment(session_id, recording_id, 0, "x.audio", 1.0)
    with pytest.raises(SessionGone):
        store.put_upload(session_id, "y.audio", 1.0)
    with pytest.raises(SessionGone):
        store.create_recording(session_id)


def test_infinite_retention_keeps_everything(store: Store, audio_dir: Path, clock: Clock) -> None:
    purger = _purger(store, audio_dir, clock, hours=float("inf"))
    session_id = store.create_session("owner", {})
    clock.advance(24 * 365 * 10)
    assert not purger.enabled and purger.purge_once() == 0
    purger.start()  # starts no thread
    purger.stop()
    assert store.get_session("owner", session_id) is not None
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            _purger(store, audio_dir, clock, hours=bad)


def test_a_database_from_before_retention_is_upgraded_and_its_sessions_start_fresh(
    tmp_path: Path, audio_dir: Path, clock: Clock
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, fields TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO sessions VALUES ('s1', 'owner', '2020-01-01T00:00:00+00:00',"
            " '2020-01-01T00:00:00+00:00', '{}')"
        )
    db.close()
    store = Store(path, clock)
    purger = _purger(store, audio_dir, clock)
    assert purger.purge_once() == 0  # six years old, but counted from the upgrade
    assert store.get_session("owner", "s1") is not None
    clock.advance(25)
    assert purger.purge_once() == 1
    store.close()


def test_the_embedded_server_purges_periodically_over_http(
    tmp_path: Path, clock: Clock, short_chunks: list[bytes]
) -> None:
    """Real server, real files: a transcribed session disappears once the clock passes its
    retention; a session whose upload still waits for a transcript GET stays, whole."""
    from server.embedded import start_local_server

    data_dir = tmp_path / "embedded"
    server = start_local_server(data_dir, retention_hours=24, purge_interval_s=0.05, clock=clock)
    try:
        api = api_for(server.base_url, server.api_key)
        done = api.new_session()
        recording_id = api.new_recording(done)
        assert api.send_chunk(done, recording_id, 0, short_chunks[0]).status_code == 200
        assert api.finish(done, recording_id).status_code == 200
        assert api.wait_settled(done)["transcript"]
        # its audio is deleted just after the chunk reads READY
        wait_until(lambda: list((data_dir / "audio").iterdir()) == [], "transcribed: audio gone")
        lazy = api.new_session()
        upload = api.client.post(
            f"/sessions/{lazy}/upload-audio",
            files={"file": ("a.ogg", short_chunks[1], "audio/ogg")},
        )
        assert upload.status_code == 200, upload.text
        assert len(list((data_dir / "audio").iterdir())) == 1  # the lazy upload only

        clock.advance(25)
        deadline = time.monotonic() + 30
        while api.client.get(f"/sessions/{done}").status_code != 404:
            assert time.monotonic() < deadline, "the idle session was not purged"
            time.sleep(0.05)
        assert_error(api.client.get(f"/sessions/{done}/transcript/live"), 404)
        assert_error(api.send_chunk(done, recording_id, 1, short_chunks[2]), 404)
        assert_error(api.client.patch(f"/sessions/{done}", json={"duration": 3}), 404)

        assert api.client.get(f"/sessions/{lazy}").status_code == 200
        final = api.client.get(f"/sessions/{lazy}/transcript")
        assert final.status_code == 200 and final.json()["transcript"]
        wait_until(lambda: list((data_dir / "audio").iterdir()) == [], "transcribed: audio gone")
        api.client.close()
    finally:
        server.stop()


def test_serve_refuses_a_retention_that_is_not_positive(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "server", "--data-dir", str(tmp_path), "--port", "0"]
    for value in ("0", "-3", "soon", "nan"):
        result = subprocess.run(
            [*base, "--retention-hours", value],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and "--retention-hours" in result.stderr, result.stderr
