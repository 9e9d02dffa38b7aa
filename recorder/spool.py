"""Durable, encrypted store of recordings and chunks: SQLite (WAL) index plus AES-GCM files.

Layout under the data directory:

    spool.db                                   recordings and chunks (parameters only, no audio)
    spool/<recording_id>/<index>.ogg.enc       sealed OGG chunk (recorder.crypto format)
    spool/<recording_id>/journal.bin           audio of the chunk in progress (recorder.journal)
    spool/<recording_id>/writer.lock           held by the process recording it

A chunk is written as `.partial`, fsynced, atomically renamed, the directory fsynced, and only
then committed in SQLite as QUEUED: a committed chunk always has its complete file. One SQLite
connection is shared under a lock by the writer, uploader and UI threads (each statement is
short; encoding and file I/O happen outside the lock); WAL lets other processes read meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from recorder.atomic_file import write_atomically
from recorder.chunker import DEFAULT_MAX_S, DEFAULT_MIN_S, Chunker
from recorder.crypto import Cipher, KeyStore, chunk_label
from recorder.encoder import DEFAULT_SETTINGS, EncoderSettings, decode_ogg, encode_ogg
from recorder.errors import DecryptionError, RecorderError, SpoolError
from recorder.events import describe_seconds
from recorder.journal import (
    WriterLock,
    fsync_dir,
    keep_damaged_journal,
    read_journal,
    write_all,
)
from recorder.key_check import ensure_key_matches, holds_encrypted_data
from recorder.logs import audit
from recorder.states import ChunkState, RecordingState

if TYPE_CHECKING:
    from recorder.writer import RecordingWriter

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
# Read-only spools (nothing can be migrated) of these older schemas can still be read: the later
# migrations only add tables, and what they hold is then simply empty.
READABLE_OLD_SCHEMAS = frozenset({1})
DB_NAME = "spool.db"
SPOOL_DIR = "spool"
JOURNAL_NAME = "journal.bin"
LOCK_NAME = "writer.lock"
CHUNK_SUFFIX = ".ogg.enc"


class NotFoundError(RecorderError, LookupError):
    """No such recording or chunk in the spool (or its audio was already deleted)."""


class ChunkUnreadableError(SpoolError):
    """A chunk's file is there but cannot be read (permissions, I/O error); it is left alone."""


@dataclass(frozen=True)
class RecordingRow:
    """One recording as stored in the spool."""

    recording_id: str
    state: RecordingState
    sample_rate: int
    codec: str
    created_at: float
    updated_at: float
    duration_s: float
    chunk_min_s: float
    chunk_max_s: float
    session_id: str | None = None
    remote_recording_id: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)  # patient/EHR id, consent: never log


@dataclass(frozen=True)
class SessionMatch:
    """The recording a server session id belongs to, and that session's segment recording.

    `current` is False for a session the recording was sent to before it was sent again to a
    new one (the server had lost it); `remote_recording_id` is then that old session's.
    """

    recording: RecordingRow
    session_id: str
    remote_recording_id: str | None
    current: bool


@dataclass(frozen=True)
class ChunkRow:
    """One chunk as stored in the spool."""

    recording_id: str
    index: int
    state: ChunkState
    start_frame: int
    frames: int
    duration_s: float
    size_bytes: int
    attempts: int
    next_attempt_at: float | None
    error: str | None
    server_status: str | None
    created_at: float
    updated_at: float
    audio_deleted_at: float | None


_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE recordings (
        recording_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        sample_rate INTEGER NOT NULL,
        codec TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        duration_s REAL NOT NULL DEFAULT 0,
        chunk_min_s REAL NOT NULL,
        chunk_max_s REAL NOT NULL,
        session_id TEXT,
        remote_recording_id TEXT,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE chunks (
        recording_id TEXT NOT NULL REFERENCES recordings(recording_id),
        idx INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_frame INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        duration_s REAL NOT NULL,
        size_bytes INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        error TEXT,
        server_status TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        audio_deleted_at REAL,
        PRIMARY KEY (recording_id, idx)
    );
    CREATE INDEX chunks_by_state ON chunks(state, next_attempt_at);
    """,
    # Sessions a recording was sent to before the server lost them: their ids still name it.
    2: """
    CREATE TABLE earlier_sessions (
        recording_id TEXT NOT NULL REFERENCES recordings(recording_id),
        session_id TEXT NOT NULL,
        remote_recording_id TEXT,
        replaced_at REAL NOT NULL,
        PRIMARY KEY (recording_id, session_id)
    );
    CREATE INDEX earlier_sessions_by_session ON earlier_sessions(session_id);
    """,
}


def chunk_file_name(index: int) -> str:
    """File name of chunk `index` inside its recording's folder."""
    return f"{index:03d}{CHUNK_SUFFIX}"


def _writable(folder: Path) -> bool:
    """Whether files can be created in `folder` (os.access lies for root on read-only mounts)."""
    try:
        probe = folder / f".write-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


def _file_problem(path: Path, mode: int) -> bool:
    """Whether `path` exists but this user may not use it with `mode` (os.R_OK | os.W_OK).

    (os.access answers for the real user; root always may, and hears about the folder.)"""
    return path.exists() and not os.access(path, mode)


def _remove_empty_recording(folder: Path) -> None:
    """Remove the folder of a recording that never started (its lock file only)."""
    with contextlib.suppress(OSError):
        (folder / LOCK_NAME).unlink(missing_ok=True)
        folder.rmdir()


def _is_disk_problem(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT)
    text = str(error).lower()
    return any(word in text for word in ("disk", "full", "readonly", "read-only", "unable to open"))


class Spool:
    """The spool of one data directory. Use `Spool.open(data_dir)`."""

    def __init__(self, data_dir: Path, cipher: Cipher, key_warning: str | None) -> None:
        self.data_dir = data_dir
        self.root = data_dir / SPOOL_DIR
        self.cipher = cipher
        self._key_warning = key_warning
        self._lock = threading.RLock()
        self._active: set[str] = set()  # recordings written by a RecordingWriter of this process
        self._reserved: dict[str, WriterLock] = {}  # created here, writer() not yet called
        self.read_only = False  # True when the data folder can only be read (export still works)
        self._schema = SCHEMA_VERSION  # lower only for a read-only spool of an older schema
        self._db = self._connect()
        self._migrate()

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], *, key: bytes | None = None) -> Spool:
        """Open (creating if needed) the spool in `data_dir`; SpoolError if it is unusable."""
        path = Path(data_dir)
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            (path / SPOOL_DIR).mkdir(exist_ok=True, mode=0o700)
        except (FileExistsError, NotADirectoryError) as error:
            raise SpoolError(
                f"The data folder {path} cannot be used: something that is not a folder is "
                "in the way."
            ) from error
        except OSError as error:
            if path.is_dir():  # there, but this user may not use it (made by another user?)
                where = error.filename or path
                raise SpoolError(
                    f"The data folder {path} cannot be used: {where} ({error.strerror}). It "
                    "must be readable and writable by this user; ask IT to fix its permissions."
                ) from error
            raise SpoolError(
                f"The data folder {path} cannot be created ({error.strerror})."
            ) from error
        warning = None
        if key is None:  # (an explicit key is the caller's business: tests)
            root = path / SPOOL_DIR
            store = KeyStore(
                path,
                may_create=not holds_encrypted_data(
                    path, SPOOL_DIR, (f"*/*{CHUNK_SUFFIX}", f"*/{JOURNAL_NAME}")
                ),
            )
            key = store.load_or_create()
            warning = store.warning
            samples = (
                (chunk, chunk_label(chunk.parent.name, int(chunk.name[: -len(CHUNK_SUFFIX)])))
                for chunk in root.glob(f"*/*{CHUNK_SUFFIX}")  # lazy: only read without a check file
                if chunk.name[: -len(CHUNK_SUFFIX)].isdigit()
            )
            ensure_key_matches(path, Cipher(key), samples)
        return cls(path, Cipher(key), warning)

    @property
    def key_warning(self) -> str | None:
        """Why the key is less protected than it should be (None when the OS keyring holds it)."""
        return self._key_warning

    def _db_files(self) -> tuple[Path, Path, Path]:
        db = self.data_dir / DB_NAME
        return db, db.with_name(f"{DB_NAME}-wal"), db.with_name(f"{DB_NAME}-shm")

    def _connect(self) -> sqlite3.Connection:
        path, wal, _shm = self._db_files()
        for file in self._db_files():
            if _file_problem(file, os.R_OK):
                raise SpoolError(
                    f"The spool database file {file} cannot be opened (Permission denied: not "
                    "readable by this user). Make it readable and writable by this user "
                    "(was the app run as another user?)."
                )
        if any(_file_problem(file, os.R_OK | os.W_OK) for file in self._db_files()):
            # Left by another user, or made read-only: reading and exporting still work; the
            # first write says which file. With no WAL to read, nothing at all is written.
            self.read_only = True
            mode = "mode=ro" if wal.exists() and wal.stat().st_size else "immutable=1"
            db = sqlite3.connect(f"{path.as_uri()}?{mode}", uri=True, check_same_thread=False)
            db.row_factory = sqlite3.Row
            return db
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as error:
            if path.exists() and not _writable(self.data_dir):
                # A read-only folder (or medium): reading and exporting still work.
                self.read_only = True
                db = sqlite3.connect(
                    f"{path.as_uri()}?immutable=1", uri=True, check_same_thread=False
                )
            else:
                raise SpoolError(
                    f"The spool database {path} cannot be opened ({error})."
                ) from error
        db.row_factory = sqlite3.Row
        return db

    def _migrate(self) -> None:
        if self.read_only:
            current = self._read("SELECT MAX(version) FROM schema_version")[0][0] or 0
            if current != SCHEMA_VERSION and current not in READABLE_OLD_SCHEMAS:
                raise SpoolError(
                    f"The spool in {self.data_dir} is read-only and has schema {current}; "
                    f"this version of the app needs {SCHEMA_VERSION}."
                )
            self._schema = current
            return
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = row[0] or 0
            if current > SCHEMA_VERSION:
                raise SpoolError(
                    f"The spool in {self.data_dir} was written by a newer version of the app "
                    f"(schema {current}); please update Ambient Recorder."
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    def close(self) -> None:
        """Close the database and drop unused recording reservations (close writers first)."""
        with self._lock:
            for recording_id, lock in self._reserved.items():
                lock.release()
                self._active.discard(recording_id)
            self._reserved.clear()
            self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; disk problems become SpoolError."""
        if self.read_only:
            raise SpoolError(self._unwritable_message("read-only"))
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise SpoolError(self._unwritable_message(str(error))) from error

    def _unwritable_message(self, reason: str) -> str:
        """Why the database cannot be written, naming the file this user may not write (one
        left by another user, e.g. the app run once as administrator), else the folder."""
        for path in self._db_files():
            if _file_problem(path, os.R_OK | os.W_OK):
                return (
                    f"The spool database file {path} is read-only for this user (Permission "
                    "denied: not writable): nothing can be recorded or changed. Make it writable "
                    "by this user (was the app run as another user?)."
                )
        return (
            f"The data folder {self.data_dir} is full or not writable ({reason}): "
            "nothing can be recorded or changed."
        )

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise SpoolError(f"The spool database cannot be read ({error}).") from error

    # -- recordings ----------------------------------------------------------------------

    def create_recording(
        self,
        sample_rate: int = 16_000,
        codec: str = "vorbis",
        meta: Mapping[str, Any] | None = None,
        *,
        chunk_min_s: float = DEFAULT_MIN_S,
        chunk_max_s: float = DEFAULT_MAX_S,
    ) -> RecordingRow:
        """A new recording in RECORDING state with its own folder."""
        EncoderSettings(codec=codec)  # validates the codec name
        Chunker(sample_rate, chunk_min_s, chunk_max_s, window_s=min(0.3, chunk_min_s))
        recording_id = str(uuid.uuid4())
        folder = self.root / recording_id
        try:
            folder.mkdir(mode=0o700)
        except OSError as error:
            raise SpoolError(
                f"The data folder {self.data_dir} is full or not writable ({error.strerror}): "
                f"cannot start a recording in {self.root}."
            ) from error
        # Hold the writer lock from the start, so another process's recover_interrupted()
        # never mistakes this brand-new RECORDING row for a crashed one.
        lock = WriterLock(folder / LOCK_NAME)
        try:
            lock.acquire()
        except OSError as error:
            _remove_empty_recording(folder)
            raise SpoolError(
                f"The data folder {self.data_dir} is full or not writable ({error.strerror}): "
                f"cannot start a recording in {self.root}."
            ) from error
        with self._lock:
            self._reserved[recording_id] = lock
            self._active.add(recording_id)
        try:
            now = time.time()
            with self._write() as db:
                db.execute(
                    "INSERT INTO recordings (recording_id, state, sample_rate, codec, created_at, "
                    "updated_at, chunk_min_s, chunk_max_s, meta) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        recording_id,
                        RecordingState.RECORDING.value,
                        sample_rate,
                        codec,
                        now,
                        now,
                        chunk_min_s,
                        chunk_max_s,
                        json.dumps(dict(meta or {})),
                    ),
                )
        except BaseException:
            with self._lock:
                self._reserved.pop(recording_id, None)
                self._active.discard(recording_id)
            lock.release()
            _remove_empty_recording(folder)  # not started: no folder left behind to puzzle over
            raise
        return self.recording(recording_id)

    def recordings(self) -> list[RecordingRow]:
        """Every recording, oldest first."""
        rows = self._read("SELECT * FROM recordings ORDER BY created_at, recording_id")
        return [_recording_row(r) for r in rows]

    def recording(self, recording_id: str) -> RecordingRow:
        """One recording; NotFoundError for an unknown id."""
        rows = self._read("SELECT * FROM recordings WHERE recording_id = ?", (recording_id,))
        if not rows:
            raise NotFoundError(f"No recording with id {recording_id!r} in the spool.")
        return _recording_row(rows[0])

    def set_recording_state(self, recording_id: str, state: RecordingState) -> None:
        """Move a recording to `state`."""
        self._update_recording(recording_id, "state = ?", (RecordingState(state).value,))

    def set_recording_remote(
        self,
        recording_id: str,
        *,
        session_id: str | None = None,
        remote_recording_id: str | None = None,
    ) -> None:
        """Remember the server's session id and/or recording id (given values only).

        A new session id replacing another (the recording sent again after the server lost
        it) keeps the old one, with its recording id, in `earlier_sessions`: a transcript
        asked for by the old id still belongs to this recording.
        """
        sets: list[str] = []
        params: list[Any] = []
        if session_id is not None:
            sets.append("session_id = ?")
            params.append(session_id)
        if remote_recording_id is not None:
            sets.append("remote_recording_id = ?")
            params.append(remote_recording_id)
        if not sets:
            return
        with self._write() as db:
            old = db.execute(
                "SELECT session_id, remote_recording_id FROM recordings WHERE recording_id = ?",
                (recording_id,),
            ).fetchone()
            if old is None:
                raise NotFoundError(f"No recording with id {recording_id!r} in the spool.")
            if session_id is not None and old["session_id"] not in (None, session_id):
                db.execute(
                    "INSERT OR REPLACE INTO earlier_sessions (recording_id, session_id, "
                    "remote_recording_id, replaced_at) VALUES (?,?,?,?)",
                    (recording_id, old["session_id"], old["remote_recording_id"], time.time()),
                )
            db.execute(
                f"UPDATE recordings SET {', '.join(sets)}, updated_at = ? WHERE recording_id = ?",
                (*params, time.time(), recording_id),
            )

    def earlier_sessions(self, recording_id: str) -> list[tuple[str, str | None]]:
        """(session id, its recording id) of each session a recording was sent to before its
        current one, oldest first (empty for a recording never sent again)."""
        if self._schema < 2:
            return []
        rows = self._read(
            "SELECT session_id, remote_recording_id FROM earlier_sessions "
            "WHERE recording_id = ? ORDER BY replaced_at, session_id",
            (recording_id,),
        )
        return [(r["session_id"], r["remote_recording_id"]) for r in rows]

    def find_session(self, session_id: str) -> SessionMatch:
        """The recording that was sent to server session `session_id`, now or before it was
        sent again to a new session; NotFoundError when no recording here was."""
        rows = self._read(
            "SELECT recording_id, remote_recording_id FROM recordings WHERE session_id = ? "
            "ORDER BY created_at, recording_id",
            (session_id,),
        )
        current = bool(rows)
        if not rows and self._schema >= 2:
            rows = self._read(
                "SELECT recording_id, remote_recording_id FROM earlier_sessions "
                "WHERE session_id = ? ORDER BY replaced_at DESC",
                (session_id,),
            )
        if not rows:
            raise NotFoundError(f"No recording in the spool was sent to session {session_id!r}.")
        return SessionMatch(
            recording=self.recording(rows[0]["recording_id"]),
            session_id=session_id,
            remote_recording_id=rows[0]["remote_recording_id"],
            current=current,
        )

    def _update_recording(
        self, recording_id: str, assignment: str, params: tuple[Any, ...]
    ) -> None:
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE recordings SET {assignment}, updated_at = ? WHERE recording_id = ?",
                (*params, time.time(), recording_id),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"No recording with id {recording_id!r} in the spool.")

    def chunk_counts(self, recording_id: str) -> dict[str, int]:
        """How many chunks of a recording are in each ChunkState."""
        rows = self._read(
            "SELECT state, COUNT(*) FROM chunks WHERE recording_id = ? GROUP BY state",
            (recording_id,),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def waiting_chunk_count(self) -> int:
        """Chunks not yet uploaded (queued, uploading, retrying) of recordings not yet DONE."""
        rows = self._read(
            "SELECT COUNT(*) FROM chunks JOIN recordings USING (recording_id) "
            "WHERE recordings.state != ? AND chunks.state IN (?, ?, ?)",
            (
                RecordingState.DONE.value,
                ChunkState.QUEUED.value,
                ChunkState.UPLOADING.value,
                ChunkState.RETRYING.value,
            ),
        )
        return int(rows[0][0])

    # -- chunks --------------------------------------------------------------------------

    def chunks(self, recording_id: str) -> list[ChunkRow]:
        """A recording's chunks in index order (NotFoundError for an unknown recording)."""
        self.recording(recording_id)
        rows = self._read(
            "SELECT * FROM chunks WHERE recording_id = ? ORDER BY idx", (recording_id,)
        )
        return [_chunk_row(r) for r in rows]

    def chunk(self, recording_id: str, index: int) -> ChunkRow:
        """One chunk; NotFoundError when it does not exist."""
        rows = self._read(
            "SELECT * FROM chunks WHERE recording_id = ? AND idx = ?", (recording_id, index)
        )
        if not rows:
            raise NotFoundError(f"Recording {recording_id!r} has no chunk {index}.")
        return _chunk_row(rows[0])

    def chunk_path(self, recording_id: str, index: int) -> Path:
        """Where a chunk's encrypted file lives."""
        return self.root / recording_id / chunk_file_name(index)

    def read_chunk_audio(self, recording_id: str, index: int) -> bytes:
        """The decrypted OGG bytes of a chunk (DecryptionError if the file was tampered with)."""
        row = self.chunk(recording_id, index)
        if row.audio_deleted_at is not None:
            raise NotFoundError(
                f"The audio of chunk {index} of recording {recording_id!r} was deleted after "
                "upload (retention)."
            )
        try:
            sealed = self.chunk_path(recording_id, index).read_bytes()
        except FileNotFoundError as error:
            raise NotFoundError(
                f"The file of chunk {index} of recording {recording_id!r} is missing."
            ) from error
        except OSError as error:  # e.g. made unreadable: the audio may still be there
            raise ChunkUnreadableError(
                f"The file of chunk {index}, {self.chunk_path(recording_id, index)}, cannot be "
                f"read ({error.strerror or error}); it is kept."
            ) from error
        try:
            return self.cipher.open(sealed, chunk_label(recording_id, index))
        except DecryptionError as error:
            raise DecryptionError(
                f"Chunk {index} of recording {recording_id!r}: {error}"
            ) from error

    def read_chunk_pcm(self, recording_id: str, index: int) -> npt.NDArray[np.float32]:
        """A chunk decoded to float32 PCM (exports, checks and tests)."""
        pcm, _rate = decode_ogg(self.read_chunk_audio(recording_id, index))
        return pcm

    def set_chunk_state(
        self,
        recording_id: str,
        index: int,
        state: ChunkState,
        *,
        attempts: int | None = None,
        next_attempt_at: float | None = None,
        error: str | None = None,
    ) -> ChunkRow:
        """Set a chunk's upload state. `attempts` None keeps it; `next_attempt_at` and `error`
        describe the new state, so None clears them."""
        sets = "state = ?, next_attempt_at = ?, error = ?, updated_at = ?"
        params: list[Any] = [ChunkState(state).value, next_attempt_at, error, time.time()]
        if attempts is not None:
            sets += ", attempts = ?"
            params.append(attempts)
        self._update_chunk(recording_id, index, sets, params)
        return self.chunk(recording_id, index)

    def set_chunk_server_status(self, recording_id: str, index: int, status: str | None) -> None:
        """The server's PENDING/READY/FAILED for this chunk (None: not known yet)."""
        self._update_chunk(
            recording_id, index, "server_status = ?, updated_at = ?", [status, time.time()]
        )

    def delete_chunk_audio(self, recording_id: str, index: int) -> None:
        """Delete an uploaded chunk's file (after retention); the row stays, marked deleted."""
        row = self.chunk(recording_id, index)
        if row.state != ChunkState.UPLOADED:
            raise SpoolError(
                f"Chunk {index} of recording {recording_id!r} is {row.state.value}, not uploaded: "
                "its audio is kept."
            )
        self.chunk_path(recording_id, index).unlink(missing_ok=True)
        self._update_chunk(
            recording_id, index, "audio_deleted_at = ?, updated_at = ?", [time.time(), time.time()]
        )

    def _update_chunk(self, recording_id: str, index: int, sets: str, params: list[Any]) -> None:
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE chunks SET {sets} WHERE recording_id = ? AND idx = ?",
                (*params, recording_id, index),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"Recording {recording_id!r} has no chunk {index}.")

    def commit_chunk(
        self,
        recording_id: str,
        index: int,
        start_frame: int,
        pcm: npt.NDArray[np.float32],
        settings: EncoderSettings = DEFAULT_SETTINGS,
    ) -> ChunkRow:
        """Encode, encrypt and durably store one chunk, then queue it (the writer's commit step)."""
        rec = self.recording(recording_id)
        sealed = self.cipher.seal(
            encode_ogg(pcm, rec.sample_rate, settings), chunk_label(recording_id, index)
        )
        final = self.chunk_path(recording_id, index)
        partial = final.with_name(final.name + ".partial")
        try:
            fd = os.open(
                partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600
            )
            try:
                write_all(fd, sealed)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, final)
            fsync_dir(final.parent)
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise self.disk_error(recording_id, error) from error
        now = time.time()
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO chunks (recording_id, idx, state, start_frame, frames, duration_s,"
                    " size_bytes, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        recording_id,
                        index,
                        ChunkState.QUEUED.value,
                        start_frame,
                        len(pcm),
                        len(pcm) / rec.sample_rate,
                        len(sealed),
                        now,
                        now,
                    ),
                )
                db.execute(
                    "UPDATE recordings SET duration_s = ?, updated_at = ? WHERE recording_id = ?",
                    ((start_frame + len(pcm)) / rec.sample_rate, now, recording_id),
                )
        except SpoolError as error:
            # The journal still holds this audio; the orphan file is cleaned at recovery.
            raise self.disk_error(recording_id, error) from error
        return self.chunk(recording_id, index)

    def disk_error(
        self, recording_id: str, cause: BaseException, recorded_s: float | None = None
    ) -> SpoolError:
        """The user-facing SpoolError for a failed write, saying what is safe.

        `recorded_s`: the audio of the recording so far (committed chunks plus the journal),
        which is all kept; without it only the committed chunks are counted. A clinician read
        "the 0 chunks already recorded are safe" as "nothing was kept" while the journal held
        every second.
        """
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        problem = "full or not writable" if _is_disk_problem(cause) else "not usable"
        stopped = f"The data folder {self.data_dir} is {problem} ({reason}): recording stopped"
        folder = self.root / recording_id
        if not folder.is_dir():  # nothing of it is left to promise (removed by a person or tool)
            return SpoolError(
                f"{stopped}. The recording's folder {folder} was removed or moved while "
                "recording: the audio in it that was not uploaded yet is not on this computer."
            )
        if recorded_s is not None:
            return SpoolError(
                f"{stopped}. Everything recorded so far ({describe_seconds(recorded_s)}) is kept "
                "on this computer and saved for upload once the folder can be written to again."
            )
        try:
            count = sum(self.chunk_counts(recording_id).values())
        except RecorderError:
            count = 0
        return SpoolError(f"{stopped}; the {count} chunks already recorded are safe.")

    # -- writing and recovery --------------------------------------------------------------

    def writer(
        self,
        recording_id: str,
        settings: EncoderSettings | None = None,
        *,
        sync_interval_s: float = 1.0,
    ) -> RecordingWriter:
        """The RecordingWriter (chunker + encoder + journal) of a recording in RECORDING state."""
        from recorder.writer import RecordingWriter

        rec = self.recording(recording_id)
        if rec.state != RecordingState.RECORDING:
            raise SpoolError(
                f"Recording {recording_id!r} is {rec.state.value}: cannot write to it."
            )
        with self._lock:
            reserved = self._reserved.pop(recording_id, None)
            if reserved is not None:
                lock = reserved  # taken by create_recording: no recovery could slip in between
            else:
                lock = WriterLock(self.root / recording_id / LOCK_NAME)
                if recording_id in self._active or not lock.acquire():
                    raise SpoolError(f"Recording {recording_id!r} is already being written.")
                self._active.add(recording_id)
        try:
            return RecordingWriter(
                self,
                rec,
                settings or EncoderSettings(codec=rec.codec),
                lock,
                sync_interval_s=sync_interval_s,
            )
        except BaseException:
            self._writer_closed(recording_id, lock)
            raise

    def _writer_closed(self, recording_id: str, lock: WriterLock) -> None:
        lock.release()
        with self._lock:
            self._active.discard(recording_id)

    def recover_interrupted(self) -> list[RecordingRow]:
        """Turn every crashed recording (RECORDING, no live writer) into INTERRUPTED.

        The journal's audio after the last committed chunk becomes the final chunk(s); orphan
        `.partial` files and chunk files never committed are removed (their audio is in the
        journal). Recordings a live process is writing are left alone.
        """
        recovered: list[RecordingRow] = []
        blocked: list[str] = []
        for rec in self.recordings():
            if rec.state != RecordingState.RECORDING:
                continue
            with self._lock:
                if rec.recording_id in self._active:
                    continue
            lock = WriterLock(self.root / rec.recording_id / LOCK_NAME)
            try:
                if not lock.acquire():
                    continue  # another process is recording it right now
            except OSError:
                pass  # folder gone or unwritable: recover what the database knows
            try:
                self._recover_one(rec)
            except OSError as error:  # e.g. a journal this user may not read: left as it is
                where = error.filename or self.root / rec.recording_id
                blocked.append(f"{where} ({error.strerror or error})")
                continue
            finally:
                lock.release()
            recovered.append(self.recording(rec.recording_id))
        if blocked:  # the others were recovered; this one is tried again at the next start
            raise SpoolError(
                f"{'; '.join(blocked)}: kept as it is, and recovered at a later start once this "
                "user can read it."
            )
        return recovered

    def _recover_one(self, rec: RecordingRow) -> None:
        folder = self.root / rec.recording_id
        chunks = self.chunks(rec.recording_id)
        committed = {c.index for c in chunks}
        self._remove_orphans(folder, committed)
        end = max((c.start_frame + c.frames for c in chunks), default=0)
        index = max(committed, default=-1) + 1
        journal = folder / JOURNAL_NAME
        found = read_journal(journal, self.cipher, rec.recording_id)
        if found is not None:
            start, pcm, damaged = found
            if damaged:
                keep_damaged_journal(journal)  # the readable part is recovered below
            if start > end:
                log.error(
                    "recording %s: journal starts %d frames after the last chunk",
                    rec.recording_id,
                    start - end,
                )
            tail = pcm[max(0, end - start) :]
            chunker = Chunker(
                rec.sample_rate,
                rec.chunk_min_s,
                rec.chunk_max_s,
                window_s=min(0.3, rec.chunk_min_s),
                silence_dbfs=None,
            )
            pieces = chunker.write(tail)
            last = chunker.flush()
            if last is not None:
                pieces.append(last)
            frame = max(start, end)
            for piece in pieces:
                self.commit_chunk(
                    rec.recording_id, index, frame, piece, EncoderSettings(codec=rec.codec)
                )
                index += 1
                frame += len(piece)
        self.set_recording_state(rec.recording_id, RecordingState.INTERRUPTED)
        journal.unlink(missing_ok=True)
        journal.with_name(JOURNAL_NAME + ".partial").unlink(missing_ok=True)
        audit(
            "recording.recovered",
            recording=rec.recording_id,
            chunks=index,
            from_journal=index - len(committed),
        )

    @staticmethod
    def _remove_orphans(folder: Path, committed: set[int]) -> None:
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            name = path.name
            if name.endswith(".partial") and name != JOURNAL_NAME + ".partial":
                path.unlink(missing_ok=True)
            elif name.endswith(CHUNK_SUFFIX):
                stem = name[: -len(CHUNK_SUFFIX)]
                if stem.isdigit() and int(stem) not in committed:
                    path.unlink(missing_ok=True)

    # -- export ----------------------------------------------------------------------------

    def export(self, recording_id: str, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Decrypt a recording's chunks to plain `<index>.ogg` files in `out_dir`."""
        chunks = self.chunks(recording_id)
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SpoolError(f"Cannot create the export folder {out}: {error.strerror}") from error
        written: list[Path] = []
        for chunk in chunks:
            if chunk.audio_deleted_at is not None:
                continue
            target = out / f"{chunk.index:03d}.ogg"
            data = self.read_chunk_audio(recording_id, chunk.index)
            try:
                write_atomically(target, data)
            except OSError as error:
                raise SpoolError(f"Cannot write {target}: {error.strerror}") from error
            written.append(target)
        return written


def _recording_row(row: sqlite3.Row) -> RecordingRow:
    return RecordingRow(
        recording_id=row["recording_id"],
        state=RecordingState(row["state"]),
        sample_rate=row["sample_rate"],
        codec=row["codec"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        duration_s=row["duration_s"],
        chunk_min_s=row["chunk_min_s"],
        chunk_max_s=row["chunk_max_s"],
        session_id=row["session_id"],
        remote_recording_id=row["remote_recording_id"],
        meta=json.loads(row["meta"]),
    )


def _chunk_row(row: sqlite3.Row) -> ChunkRow:
    return ChunkRow(
        recording_id=row["recording_id"],
        index=row["idx"],
        state=ChunkState(row["state"]),
        start_frame=row["start_frame"],
        frames=row["frames"],
        duration_s=row["duration_s"],
        size_bytes=row["size_bytes"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        error=row["error"],
        server_status=row["server_status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        audio_deleted_at=row["audio_deleted_at"],
    )
