"""The queue's bookkeeping on a real SQLite file: replacement, recovery, repeated crashes,
the stored windows of a long upload."""

from __future__ import annotations

from pathlib import Path

from server.store import MAX_ATTEMPTS, Job, Store, WindowDone


def _store_with_chunk(tmp_path: Path) -> tuple[Store, str, str]:
    store = Store(tmp_path / "s.sqlite3")
    session_id = store.create_session("owner", {})
    recording_id = store.create_recording(session_id)
    store.put_segment(session_id, recording_id, 0, "a.audio", 50.0)
    return store, session_id, recording_id


def test_a_result_for_a_replaced_chunk_is_dropped(tmp_path: Path) -> None:
    store, session_id, recording_id = _store_with_chunk(tmp_path)
    job = store.claim()
    assert job is not None and job.audio_file == "a.audio"
    stored = store.put_segment(session_id, recording_id, 0, "b.audio", 40.0)
    assert stored.replaced_file == "a.audio"
    assert store.complete(job, "old words", 50.0) is False
    newer = store.claim()
    assert newer is not None and newer.audio_file == "b.audio"
    assert store.complete(newer, "new words", 40.0) is True
    [row] = store.chunks_of(session_id)
    assert (row.state, row.text, row.duration) == ("READY", "new words", 40.0)


def test_work_in_progress_returns_to_the_queue_after_a_crash(tmp_path: Path) -> None:
    store, session_id, _ = _store_with_chunk(tmp_path)
    assert store.claim() is not None
    store.close()
    reopened = Store(tmp_path / "s.sqlite3")  # as after kill -9
    assert reopened.count_pending(session_id) == 1
    assert reopened.recover() == 1
    assert reopened.claim() is not None


def test_a_chunk_that_keeps_crashing_the_server_ends_failed(tmp_path: Path) -> None:
    store, session_id, _ = _store_with_chunk(tmp_path)
    for _ in range(MAX_ATTEMPTS):
        assert store.claim() is not None
        store.recover()
    assert store.claim() is None
    [row] = store.chunks_of(session_id)
    assert row.state == "FAILED" and row.reason and "repeatedly" in row.reason


def test_sessions_are_found_only_by_their_owner(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    session_id = store.create_session("alice", {"ehr_appointment_id": "x"})
    assert store.get_session("alice", session_id) is not None
    assert store.get_session("bob", session_id) is None
    assert store.update_session("bob", session_id, {"duration": 1}) is False
    assert store.get_session("alice", "' OR '1'='1") is None


def _long_upload(store: Store, session_id: str) -> Job:
    store.put_upload(session_id, "long.audio", 3600.0)
    store.queue_stored(session_id)
    job = store.claim()
    assert job is not None and job.audio_file == "long.audio"
    return job


def test_stored_windows_outlive_a_crash_and_go_when_the_chunk_is_final(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    session_id = store.create_session("owner", {})
    job = _long_upload(store, session_id)
    assert store.save_window(job, WindowDone(0, 800_000, "first"))
    assert store.save_window(job, WindowDone(1, 1_600_000, ""))  # a silent window
    store.close()
    reopened = Store(tmp_path / "s.sqlite3")  # as after kill -9
    reopened.recover()
    again = reopened.claim()
    assert again == job
    assert reopened.windows_done(again) == [
        WindowDone(0, 800_000, "first"),
        WindowDone(1, 1_600_000, ""),
    ]
    assert reopened.complete(again, "first second", 3600.0)
    assert reopened.windows_done(again) == []


def test_a_long_upload_that_makes_progress_is_not_given_up_after_restarts(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "s.sqlite3")
    session_id = store.create_session("owner", {})
    job = _long_upload(store, session_id)
    for seq in range(MAX_ATTEMPTS + 2):  # one window done before each interruption
        assert store.save_window(job, WindowDone(seq, (seq + 1) * 800_000, f"w{seq}"))
        store.recover()
        claimed = store.claim()
        assert claimed == job
    assert [w.seq for w in store.windows_done(job)] == list(range(MAX_ATTEMPTS + 2))


def test_windows_of_a_replaced_chunk_are_dropped(tmp_path: Path) -> None:
    store, session_id, recording_id = _store_with_chunk(tmp_path)
    job = store.claim()
    assert job is not None
    assert store.save_window(job, WindowDone(0, 800_000, "old"))
    store.put_segment(session_id, recording_id, 0, "b.audio", 50.0)
    assert not store.save_window(job, WindowDone(1, 1_600_000, "old"))
    newer = store.claim()
    assert newer is not None and store.windows_done(newer) == []


def test_between_windows_only_short_chunks_are_claimed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    session_id = store.create_session("owner", {})
    store.put_upload(session_id, "long.audio", 3600.0)
    store.put_upload(session_id, "unknown.audio", 0.0)  # the container did not say
    store.queue_stored(session_id)
    recording_id = store.create_recording(session_id)
    store.put_segment(session_id, recording_id, 0, "live.audio", 55.0)
    short = store.claim(max_seconds=120.0)
    assert short is not None and short.audio_file == "live.audio"
    assert store.claim(max_seconds=120.0) is None
    assert [j.audio_file for j in (store.claim(), store.claim())] == [
        "long.audio",
        "unknown.audio",
    ]
