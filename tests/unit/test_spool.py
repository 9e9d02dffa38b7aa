"""Spool: real SQLite, real encrypted files, real threads."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from recorder.errors import DecryptionError, SpoolError
from recorder.journal import Journal, keep_damaged_journal, read_journal
from recorder.spool import JOURNAL_NAME, NotFoundError, Spool, chunk_file_name
from recorder.states import ChunkState, RecordingState

RATE = 16_000
KEY = bytes(range(32))


def tone(seconds: float, seed: int = 0) -> npt.NDArray[np.float32]:
    """Speech-like test audio: a wobbling tone plus a little noise (compresses like speech)."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    rng = np.random.default_rng(seed)
    wave = 0.3 * np.sin(2 * np.pi * (220 + 40 * np.sin(t)) * t) + rng.standard_normal(n) * 0.01
    return wave.astype(np.float32)


def record(spool: Spool, audio: npt.NDArray[np.float32], block: int = 1_600) -> str:
    rec = spool.create_recording(meta={"patient_ref": "P-1"}, chunk_min_s=1.0, chunk_max_s=1.5)
    writer = spool.writer(rec.recording_id)
    for start in range(0, len(audio), block):
        writer.write(audio[start : start + block])
    writer.close()
    return rec.recording_id


def decoded(spool: Spool, rid: str) -> npt.NDArray[np.float32]:
    return np.concatenate([spool.read_chunk_pcm(rid, c.index) for c in spool.chunks(rid)])


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    s = Spool.open(tmp_path / "data", key=KEY)
    yield s
    s.close()


def test_record_commits_contiguous_queued_chunks(spool: Spool) -> None:
    audio = tone(5.2)
    rid = record(spool, audio)
    rec = spool.recording(rid)
    assert rec.state == RecordingState.RECORDED
    assert rec.meta == {"patient_ref": "P-1"}
    assert rec.duration_s == pytest.approx(5.2)
    chunks = spool.chunks(rid)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(c.state == ChunkState.QUEUED and c.attempts == 0 for c in chunks)
    frame = 0
    for c in chunks:
        assert c.start_frame == frame
        frame += c.frames
        assert c.size_bytes == spool.chunk_path(rid, c.index).stat().st_size
    assert frame == len(audio)
    out = decoded(spool, rid)
    assert len(out) == len(audio)
    assert np.corrcoef(out, audio)[0, 1] > 0.95
    assert not (spool.root / rid / JOURNAL_NAME).exists()


def test_chunk_states_and_columns(spool: Spool) -> None:
    rid = record(spool, tone(2.0))
    row = spool.set_chunk_state(
        rid, 0, ChunkState.RETRYING, attempts=2, next_attempt_at=123.5, error="server busy (503)"
    )
    assert (row.state, row.attempts, row.next_attempt_at, row.error) == (
        ChunkState.RETRYING,
        2,
        123.5,
        "server busy (503)",
    )
    row = spool.set_chunk_state(rid, 0, ChunkState.UPLOADED)
    assert (row.attempts, row.next_attempt_at, row.error) == (2, None, None)
    spool.set_chunk_server_status(rid, 0, "READY")
    assert spool.chunk(rid, 0).server_status == "READY"
    spool.set_recording_remote(rid, session_id="s-1", remote_recording_id="r-1")
    spool.set_recording_state(rid, RecordingState.FINISHED)
    rec = spool.recording(rid)
    assert (rec.session_id, rec.remote_recording_id, rec.state) == ("s-1", "r-1", "finished")
    assert spool.chunk_counts(rid) == {"uploaded": 1, "queued": len(spool.chunks(rid)) - 1}

    with pytest.raises(SpoolError, match="not uploaded"):
        spool.delete_chunk_audio(rid, 1)  # never delete audio that was not uploaded
    spool.delete_chunk_audio(rid, 0)
    assert spool.chunk(rid, 0).audio_deleted_at is not None
    assert not spool.chunk_path(rid, 0).exists()
    with pytest.raises(NotFoundError, match="deleted"):
        spool.read_chunk_audio(rid, 0)


def test_unknown_ids_are_clear_errors(spool: Spool) -> None:
    with pytest.raises(NotFoundError, match="No recording"):
        spool.recording("nope")
    with pytest.raises(NotFoundError):
        spool.chunks("nope")
    with pytest.raises(NotFoundError):
        spool.set_recording_state("nope", RecordingState.DONE)
    rid = record(spool, tone(1.0))
    with pytest.raises(NotFoundError, match="no chunk 9"):
        spool.set_chunk_state(rid, 9, ChunkState.UPLOADED)
    with pytest.raises(NotFoundError):
        spool.read_chunk_audio(rid, 9)


def test_writer_rules(spool: Spool) -> None:
    rec = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5)
    writer = spool.writer(rec.recording_id)
    with pytest.raises(SpoolError, match="already being written"):
        spool.writer(rec.recording_id)
    fresh = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5)  # no writer() yet
    other = Spool.open(spool.data_dir, key=KEY)  # another process-like handle sees the OS lock
    assert other.recover_interrupted() == []  # neither the fresh nor the live one is "crashed"
    assert spool.recording(fresh.recording_id).state == RecordingState.RECORDING
    spool.writer(fresh.recording_id).close()
    with pytest.raises(SpoolError, match="already being written"):
        other.writer(rec.recording_id)
    assert other.recover_interrupted() == []  # a live recording is not "recovered"
    other.close()
    writer.close()
    with pytest.raises(SpoolError, match="recorded"):
        spool.writer(rec.recording_id)
    with pytest.raises(SpoolError, match="closed"):
        writer.write(tone(0.1))
    with pytest.raises(ValueError, match="codec"):
        spool.create_recording(codec="mp3")


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Spool.open(data, key=KEY)
    audio = tone(3.0)
    rid = record(first, audio)
    first.set_chunk_state(rid, 0, ChunkState.UPLOADED, attempts=1)
    before = (first.recordings(), first.chunks(rid))
    first.close()
    second = Spool.open(data, key=KEY)
    assert (second.recordings(), second.chunks(rid)) == before
    assert len(decoded(second, rid)) == len(audio)
    versions = sqlite3.connect(data / "spool.db").execute("SELECT version FROM schema_version")
    assert [v for (v,) in versions] == [1, 2]
    assert sqlite3.connect(data / "spool.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second.close()


def test_a_schema_1_spool_is_migrated_and_keeps_earlier_session_ids(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Spool.open(data, key=KEY) as first:
        rid = record(first, tone(3.0))
        first.set_recording_remote(rid, session_id="s-1", remote_recording_id="r-1")
        before = (first.recordings(), first.chunks(rid))
    db = sqlite3.connect(data / "spool.db")  # as the app before `earlier_sessions` left it
    db.executescript("DROP TABLE earlier_sessions; DELETE FROM schema_version WHERE version > 1;")
    db.close()
    with Spool.open(data, key=KEY) as spool:
        assert (spool.recordings(), spool.chunks(rid)) == before  # nothing lost
        assert spool.earlier_sessions(rid) == []
        assert spool.find_session("s-1").current
        # the server lost s-1: the recording is sent again to s-2
        spool.set_recording_remote(rid, session_id="s-2", remote_recording_id="r-2")
        spool.set_recording_remote(rid, session_id="s-2")  # the same id again: nothing kept
        assert spool.earlier_sessions(rid) == [("s-1", "r-1")]
        old, new = spool.find_session("s-1"), spool.find_session("s-2")
        assert (old.recording.recording_id, old.remote_recording_id, old.current) == (
            rid,
            "r-1",
            False,
        )
        assert (new.recording.session_id, new.remote_recording_id, new.current) == (
            "s-2",
            "r-2",
            True,
        )
        with pytest.raises(NotFoundError):
            spool.find_session("s-unknown")
    versions = sqlite3.connect(data / "spool.db").execute("SELECT version FROM schema_version")
    assert [v for (v,) in versions] == [1, 2]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Spool.open(tmp_path, key=KEY).close()
    db = sqlite3.connect(tmp_path / "spool.db")
    db.execute("INSERT INTO schema_version VALUES (99)")
    db.commit()
    db.close()
    with pytest.raises(SpoolError, match="newer version"):
        Spool.open(tmp_path, key=KEY)


def test_data_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(SpoolError, match="not a folder"):
        Spool.open(blocker, key=KEY)


def test_files_are_encrypted_bound_and_not_audio(spool: Spool) -> None:
    rid = record(spool, tone(3.0))
    path0, path1 = spool.chunk_path(rid, 0), spool.chunk_path(rid, 1)
    with pytest.raises(sf.LibsndfileError):
        sf.read(path0)
    assert stat_mode(path0) == 0o600
    wrong_key = Spool.open(spool.data_dir, key=bytes(32))
    with pytest.raises(DecryptionError):
        wrong_key.read_chunk_audio(rid, 0)
    wrong_key.close()
    original = path0.read_bytes()
    shutil.copy(path1, path0)  # a swapped file
    with pytest.raises(DecryptionError):
        spool.read_chunk_audio(rid, 0)
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0xFF
    path0.write_bytes(bytes(tampered))
    with pytest.raises(DecryptionError):
        spool.read_chunk_audio(rid, 0)
    path0.write_bytes(original)
    assert spool.read_chunk_audio(rid, 0)[:4] == b"OggS"


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_export_writes_plain_ogg(spool: Spool, tmp_path: Path) -> None:
    audio = tone(2.5)
    rid = record(spool, audio)
    files = spool.export(rid, tmp_path / "out")
    assert [f.name for f in files] == [f"{i:03d}.ogg" for i in range(len(spool.chunks(rid)))]
    total = sum(sf.info(f).frames for f in files)
    assert total == len(audio)


def test_concurrent_writer_uploader_and_readers(spool: Spool) -> None:
    rec = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.2)
    rid = rec.recording_id
    audio = tone(8.0)
    errors: list[BaseException] = []
    done = threading.Event()

    def writer_thread() -> None:
        try:
            writer = spool.writer(rid)
            for start in range(0, len(audio), 800):
                writer.write(audio[start : start + 800])
            writer.close()
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    def uploader_thread() -> None:
        try:
            while not done.is_set() or any(c.state == ChunkState.QUEUED for c in spool.chunks(rid)):
                for c in spool.chunks(rid):
                    if c.state == ChunkState.QUEUED:
                        assert spool.read_chunk_audio(rid, c.index)[:4] == b"OggS"
                        spool.set_chunk_state(rid, c.index, ChunkState.UPLOADED, attempts=1)
        except BaseException as error:
            errors.append(error)

    def ui_thread() -> None:
        try:
            while not done.is_set():
                spool.recordings()
                spool.chunk_counts(rid)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=f) for f in (writer_thread, uploader_thread, ui_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    chunks = spool.chunks(rid)
    assert chunks and all(c.state == ChunkState.UPLOADED for c in chunks)
    assert sum(c.frames for c in chunks) == len(audio)


def _crash(writer: object) -> None:
    """What SIGKILL leaves: open files closed by the OS, lock dropped, nothing flushed or marked."""
    writer._journal.close()  # type: ignore[attr-defined]
    writer._lock.release()  # type: ignore[attr-defined]


def test_recovery_turns_journal_into_final_chunk_and_cleans_partials(tmp_path: Path) -> None:
    data = tmp_path / "data"
    spool = Spool.open(data, key=KEY)
    rec = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5)
    rid = rec.recording_id
    audio = tone(4.0)
    writer = spool.writer(rid)
    for start in range(0, len(audio), 1_600):
        writer.write(audio[start : start + 1_600])
    committed = len(spool.chunks(rid))
    folder = spool.root / rid
    (folder / "007.ogg.enc.partial").write_bytes(b"half a chunk")
    (folder / chunk_file_name(committed)).write_bytes(b"renamed but never committed")
    _crash(writer)
    spool.close()

    again = Spool.open(data, key=KEY)
    recovered = again.recover_interrupted()
    assert [r.recording_id for r in recovered] == [rid]
    assert again.recording(rid).state == RecordingState.INTERRUPTED
    assert len(again.chunks(rid)) == committed + 1
    out = decoded(again, rid)
    assert len(out) == len(audio)
    assert np.corrcoef(out, audio)[0, 1] > 0.95
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.endswith(".partial") or n == JOURNAL_NAME]
    assert again.recover_interrupted() == []  # idempotent
    again.close()


def test_crash_between_commit_and_journal_reset_repeats_nothing(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    audio = tone(3.0)
    writer = spool.writer(rid)
    journal = spool.root / rid / JOURNAL_NAME
    pos = 0
    while not spool.chunks(rid):
        stale = journal.read_bytes()  # the journal as it was before this write
        writer.write(audio[pos : pos + 1_600])
        pos += 1_600
    journal.write_bytes(stale)  # the reset never happened...
    _crash(writer)
    spool.close()
    again = Spool.open(tmp_path, key=KEY)
    again.recover_interrupted()
    chunks = again.chunks(rid)
    starts = [c.start_frame for c in chunks]
    assert starts == sorted(set(starts))
    for a, b in itertools.pairwise(chunks):
        assert a.start_frame + a.frames == b.start_frame  # contiguous: nothing repeated
    out = decoded(again, rid)
    assert len(out) == pos - 1_600
    assert np.corrcoef(out, audio[: len(out)])[0, 1] > 0.95
    again.close()


def test_journal_torn_tail_is_dropped(tmp_path: Path) -> None:
    from recorder.crypto import Cipher

    cipher = Cipher(KEY)
    path = tmp_path / JOURNAL_NAME
    journal = Journal(path, cipher, "rec")
    journal.reset(480, tone(0.1, 1))
    journal.append(tone(0.1, 2))
    journal.close()
    whole = path.read_bytes()
    journal = Journal(path, cipher, "rec")
    journal.reset(480, tone(0.1, 1))
    journal.close()
    first_only = path.read_bytes()
    for cut in [*range(len(first_only), len(whole), 97), len(whole) - 1]:
        path.write_bytes(whole[:cut])
        found = read_journal(path, cipher, "rec")
        assert found is not None
        start, pcm, damaged = found
        assert start == 480
        assert np.array_equal(pcm, tone(0.1, 1))
        assert not damaged, "a torn last record is what a crash leaves, not damage"
    path.write_bytes(whole)
    found = read_journal(path, cipher, "rec")
    assert found is not None
    assert np.array_equal(found.pcm, np.concatenate([tone(0.1, 1), tone(0.1, 2)]))
    assert not found.damaged
    found_other = read_journal(path, cipher, "other-recording")
    assert found_other is not None and len(found_other.pcm) == 0  # bound to its recording
    assert found_other.damaged
    assert read_journal(tmp_path / "missing", cipher, "rec") is None
    os.truncate(path, 5)
    found = read_journal(path, cipher, "rec")
    assert found is not None and found.damaged and len(found.pcm) == 0


def test_recovery_keeps_a_damaged_journal_and_recovers_its_readable_part(tmp_path: Path) -> None:
    """A record that does not decrypt (bit rot, another key) must not take the journal with it."""
    data = tmp_path / "data"
    spool = Spool.open(data, key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    writer.write(tone(0.5, 1))
    writer.write(tone(0.5, 2))
    _crash(writer)
    spool.close()
    journal = data / "spool" / rid / JOURNAL_NAME
    raw = bytearray(journal.read_bytes())
    raw[-10] ^= 0xFF  # damage the last complete record
    journal.write_bytes(bytes(raw))
    again = Spool.open(data, key=KEY)
    again.recover_interrupted()
    assert again.recording(rid).state is RecordingState.INTERRUPTED
    out = np.concatenate([again.read_chunk_pcm(rid, c.index) for c in again.chunks(rid)])
    assert len(out) == len(tone(0.5, 1))  # the readable first half became a chunk
    kept = [p for p in journal.parent.iterdir() if p.name.startswith("journal-damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(raw)
    assert not journal.exists()
    again.close()


def test_recovery_keeps_a_journal_with_an_unknown_header(tmp_path: Path) -> None:
    """A journal from a newer version (after a downgrade) is kept, not deleted."""
    data = tmp_path / "data"
    spool = Spool.open(data, key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    writer.write(tone(0.5, 1))
    _crash(writer)
    spool.close()
    journal = data / "spool" / rid / JOURNAL_NAME
    raw = bytearray(journal.read_bytes())
    raw[4] = 99  # a journal format this version does not know
    journal.write_bytes(bytes(raw))
    again = Spool.open(data, key=KEY)
    again.recover_interrupted()
    kept = [p for p in journal.parent.iterdir() if p.name.startswith("journal-damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(raw)
    again.close()


def test_two_damaged_journals_kept_within_one_second_are_both_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept name holds the time to the second: the second one must not replace the first."""
    monkeypatch.setattr("recorder.journal.time.strftime", lambda _fmt: "20261130T030000")
    journal = tmp_path / JOURNAL_NAME
    kept = []
    for content in (b"first damaged journal", b"second damaged journal"):
        journal.write_bytes(content)
        kept.append(keep_damaged_journal(journal))
    assert kept[0] != kept[1]
    assert [p.read_bytes() for p in kept] == [b"first damaged journal", b"second damaged journal"]
    assert all(p.name.startswith("journal-damaged-20261130T030000") for p in kept)
    assert not journal.exists()


def test_writer_on_a_crashed_recording_carries_its_journal_over(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    audio = tone(4.0)
    writer = spool.writer(rid)
    writer.write(audio[:40_000])
    _crash(writer)
    spool.close()
    again = Spool.open(tmp_path, key=KEY)
    resumed = again.writer(rid)  # resumed without recover_interrupted(): nothing may be lost
    resumed.write(audio[40_000:])
    resumed.close()
    chunks = again.chunks(rid)
    assert sum(c.frames for c in chunks) == len(audio)
    out = decoded(again, rid)
    assert np.corrcoef(out, audio)[0, 1] > 0.95
    again.close()


def test_bad_blocks_are_refused_or_sanitised(spool: Spool) -> None:
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    with pytest.raises(ValueError, match="mono"):
        writer.write(np.zeros((100, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="float"):
        writer.write(np.zeros(100, dtype=np.int16))
    column = tone(0.5)[:, None]
    writer.write(column)  # one column is fine
    broken = tone(1.0, seed=5)
    broken[::100] = np.nan
    broken[1::100] = np.inf
    writer.write(broken)
    writer.close()
    out = decoded(spool, rid)
    assert len(out) == len(column) + len(broken)
    assert np.isfinite(out).all()


def test_decryption_error_names_the_chunk(spool: Spool) -> None:
    rid = record(spool, tone(2.0))
    path = spool.chunk_path(rid, 1)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DecryptionError, match=f"Chunk 1 of recording '{rid}'"):
        spool.export(rid, spool.data_dir / "out")


def test_waiting_chunk_count_counts_unsent_chunks_of_unfinished_recordings(spool: Spool) -> None:
    first = record(spool, tone(3.2))
    second = record(spool, tone(2.2, seed=1))
    n_first, n_second = len(spool.chunks(first)), len(spool.chunks(second))
    assert spool.waiting_chunk_count() == n_first + n_second
    spool.set_chunk_state(first, 0, ChunkState.UPLOADED)
    spool.set_chunk_state(first, 1, ChunkState.RETRYING, attempts=1, next_attempt_at=1.0)
    spool.set_chunk_state(second, 0, ChunkState.REJECTED, error="415")
    assert spool.waiting_chunk_count() == n_first + n_second - 2  # retrying still waits
    spool.set_recording_state(second, RecordingState.DONE)
    assert spool.waiting_chunk_count() == n_first - 1
