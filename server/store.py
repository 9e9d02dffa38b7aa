"""The server's durable state in SQLite: sessions, recordings and the chunk queue.

Every statement uses parameters. One connection, guarded by a lock, serves the
event loop and the workers; transactions are short. `synchronous=FULL` so that a
chunk acknowledged to the client survives a crash or power loss.

Chunk states (internal): STORED (lazy upload, waits for a transcript GET),
QUEUED, WORKING, READY, FAILED. The API shows STORED/QUEUED/WORKING as PENDING.

A whole-file upload is transcribed in windows (server/windows.py); the text of each
finished window is kept in `chunk_windows` until the chunk is final, so a transcription
interrupted by a restart resumes at the next window instead of from the start.

Each session remembers when it was last written to (`active_at`, seconds from the
store's clock): retention drops sessions idle for longer than the retention period.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_ATTEMPTS = 3  # a chunk that crashed the server this often is marked FAILED

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    fields TEXT NOT NULL,
    active_at REAL
);
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    recording_id TEXT REFERENCES recordings(id),
    idx INTEGER NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    audio_file TEXT NOT NULL,
    duration REAL,
    text TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    queued_at REAL
);
CREATE TABLE IF NOT EXISTS chunk_windows (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    end_sample INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (chunk_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_recording_index ON chunks(recording_id, idx)
    WHERE recording_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chunks_queue ON chunks(state, queued_at, id);
CREATE INDEX IF NOT EXISTS chunks_session ON chunks(session_id);
CREATE INDEX IF NOT EXISTS recordings_session ON recordings(session_id);
"""

PENDING_STATES = ("STORED", "QUEUED", "WORKING")


@dataclass(frozen=True)
class Job:
    """One chunk claimed by a worker; `generation` guards against a replaced chunk."""

    chunk_id: int
    public_id: str
    generation: int
    audio_file: str
    language_code: str | None = None  # the session's, read when the chunk is claimed


@dataclass(frozen=True)
class WindowDone:
    """A transcribed window of a chunk: its place (`seq`, the sample where it ends) and text."""

    seq: int
    end_sample: int
    text: str


@dataclass(frozen=True)
class ChunkRow:
    public_id: str
    source: str
    state: str
    duration: float | None
    text: str | None
    reason: str | None
    recording_finished: bool | None = None  # None: a whole-file upload (no recording)


class SessionGone(LookupError):
    """The session (or recording) no longer exists, e.g. retention dropped it meanwhile."""


@dataclass(frozen=True)
class Purged:
    """What a retention purge removed: the audio files of its chunks are the caller's to delete."""

    sessions: int
    audio_files: list[str]


@dataclass(frozen=True)
class ChunkStored:
    """What storing a chunk did: the old audio file to delete when it replaced one."""

    public_id: str
    replaced_file: str | None


class Store:
    """All reads and writes of the server's state."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Deleted transcripts are overwritten, not left in free pages (patient data).
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """A database from before retention: its sessions count as active from now on."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(sessions)")}
        if "active_at" not in columns:
            self._db.execute("ALTER TABLE sessions ADD COLUMN active_at REAL")
        self._db.execute(
            "UPDATE sessions SET active_at = ? WHERE active_at IS NULL", (self._clock(),)
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS sessions_active ON sessions(active_at)")

    def _iso(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).isoformat()

    def _touch(self, db: sqlite3.Connection, session_id: str) -> None:
        db.execute("UPDATE sessions SET active_at = ? WHERE id = ?", (self._clock(), session_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- sessions -----------------------------------------------------------------

    def create_session(self, owner: str, fields: dict[str, Any]) -> str:
        session_id = uuid.uuid4().hex
        now = self._iso()
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions (id, owner, created_at, updated_at, fields, active_at)"
                " VALUES (?,?,?,?,?,?)",
                (session_id, owner, now, now, json.dumps(fields), self._clock()),
            )
        return session_id

    def get_session(self, owner: str, session_id: str) -> dict[str, Any] | None:
        """The session if it exists AND belongs to owner; else None (same answer for both)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM sessions WHERE id = ? AND owner = ?", (session_id, owner)
            ).fetchone()
        if row is None:
            return None
        fields: dict[str, Any] = json.loads(row["fields"])
        return {**fields, "created_at": row["created_at"], "updated_at": row["updated_at"]}

    def update_session(self, owner: str, session_id: str, changes: dict[str, Any]) -> bool:
        with self._tx() as db:
            row = db.execute(
                "SELECT fields FROM sessions WHERE id = ? AND owner = ?", (session_id, owner)
            ).fetchone()
            if row is None:
                return False
            fields = json.loads(row["fields"])
            fields.update(changes)
            fields = {key: value for key, value in fields.items() if value is not None}
            db.execute(
                "UPDATE sessions SET fields = ?, updated_at = ?, active_at = ? WHERE id = ?",
                (json.dumps(fields), self._iso(), self._clock(), session_id),
            )
        return True

    # --- recordings -----------------------------------------------------------------

    def create_recording(self, session_id: str) -> str:
        recording_id = uuid.uuid4().hex
        with self._tx() as db:
            if db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise SessionGone(session_id)
            self._touch(db, session_id)
            seq = db.execute(
                "SELECT COUNT(*) FROM recordings WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            db.execute(
                "INSERT INTO recordings (id, session_id, seq, created_at) VALUES (?,?,?,?)",
                (recording_id, session_id, seq, self._iso()),
            )
        return recording_id

    def recording_state(self, session_id: str, recording_id: str) -> str | None:
        """'open', 'finished', or None when the recording is not in this session."""
        with self._lock:
            row = self._db.execute(
                "SELECT finished_at FROM recordings WHERE id = ? AND session_id = ?",
                (recording_id, session_id),
            ).fetchone()
        if row is None:
            return None
        return "open" if row["finished_at"] is None else "finished"

    def finish_recording(self, recording_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE recordings SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
                (self._iso(), recording_id),
            )
            db.execute(
                "UPDATE sessions SET active_at = ?"
                " WHERE id = (SELECT session_id FROM recordings WHERE id = ?)",
                (self._clock(), recording_id),
            )

    # --- chunks ---------------------------------------------------------------------

    def put_segment(
        self, session_id: str, recording_id: str, index: int, audio_file: str, duration: float
    ) -> ChunkStored:
        """Queue a live chunk; a repeated index replaces the earlier chunk (audio and text)."""
        public_id = f"{recording_id}-{index}"
        with self._tx() as db:
            found = db.execute(
                "SELECT 1 FROM recordings WHERE id = ? AND session_id = ?",
                (recording_id, session_id),
            ).fetchone()
            if found is None:
                raise SessionGone(session_id)
            self._touch(db, session_id)
            old = db.execute(
                "SELECT id, audio_file FROM chunks WHERE recording_id = ? AND idx = ?",
                (recording_id, index),
            ).fetchone()
            if old is None:
                db.execute(
                    "INSERT INTO chunks (public_id, session_id, recording_id, idx, source, state,"
                    " audio_file, duration, created_at, queued_at)"
                    " VALUES (?,?,?,?, 'LIVE', 'QUEUED', ?,?,?,?)",
                    (
                        public_id,
                        session_id,
                        recording_id,
                        index,
                        audio_file,
                        duration,
                        self._iso(),
                        self._clock(),
                    ),
                )
                return ChunkStored(public_id, None)
            db.execute(
                "UPDATE chunks SET state = 'QUEUED', generation = generation + 1, audio_file = ?,"
                " duration = ?, text = NULL, reason = NULL, attempts = 0, queued_at = ?"
                " WHERE id = ?",
                (audio_file, duration, self._clock(), old["id"]),
            )
            db.execute("DELETE FROM chunk_windows WHERE chunk_id = ?", (old["id"],))
            return ChunkStored(public_id, str(old["audio_file"]))

    def put_upload(self, session_id: str, audio_file: str, duration: float) -> tuple[str, int, str]:
        """Store a whole-file upload, left for a transcript GET: (id, index, created_at)."""
        public_id = uuid.uuid4().hex
        created = self._iso()
        with self._tx() as db:
            if db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise SessionGone(session_id)
            self._touch(db, session_id)
            index = db.execute(
                "SELECT COUNT(*) FROM chunks WHERE session_id = ? AND recording_id IS NULL",
                (session_id,),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO chunks (public_id, session_id, recording_id, idx, source, state,"
                " audio_file, duration, created_at) VALUES (?,?,NULL,?, 'USER_UPLOADED', 'STORED',"
                " ?,?,?)",
                (public_id, session_id, index, audio_file, duration, created),
            )
        return public_id, int(index), created

    def queue_stored(self, session_id: str) -> int:
        """Lazy uploads of this session join the queue (called on a transcript GET)."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE chunks SET state = 'QUEUED', queued_at = ? WHERE session_id = ?"
                " AND state = 'STORED'",
                (self._clock(), session_id),
            )
            if cursor.rowcount:
                self._touch(db, session_id)
            return cursor.rowcount

    def chunks_of(self, session_id: str) -> list[ChunkRow]:
        """Live chunks by recording then index, then uploads by index."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.public_id, c.source, c.state, c.duration, c.text, c.reason,"
                " r.id AS rid, r.finished_at"
                " FROM chunks c LEFT JOIN recordings r ON r.id = c.recording_id"
                " WHERE c.session_id = ?"
                " ORDER BY c.recording_id IS NULL, r.seq, c.idx",
                (session_id,),
            ).fetchall()
        return [
            ChunkRow(
                r["public_id"],
                r["source"],
                r["state"],
                r["duration"],
                r["text"],
                r["reason"],
                None if r["rid"] is None else r["finished_at"] is not None,
            )
            for r in rows
        ]

    def count_pending(self, session_id: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM chunks WHERE session_id = ? AND state IN (?,?,?)",
                (session_id, *PENDING_STATES),
            ).fetchone()
        return int(row[0])

    def pending_audio_files(self) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT audio_file FROM chunks WHERE state IN (?,?,?)", PENDING_STATES
            ).fetchall()
        return {str(r[0]) for r in rows}

    # --- the queue ------------------------------------------------------------------

    def recover(self) -> int:
        """After a restart: chunks that were being transcribed go back to the queue."""
        with self._tx() as db:
            return db.execute("UPDATE chunks SET state = 'QUEUED' WHERE state = 'WORKING'").rowcount

    def claim(self, max_seconds: float | None = None) -> Job | None:
        """Take the oldest queued chunk; one that crashed us MAX_ATTEMPTS times is FAILED.

        `max_seconds`: only a chunk known to be at most this long (what a worker takes
        between two windows of a long upload)."""
        where = "c.state = 'QUEUED'"
        params: tuple[float, ...] = ()
        if max_seconds is not None:
            where += " AND c.duration > 0 AND c.duration <= ?"
            params = (max_seconds,)
        with self._tx() as db:
            while True:
                row = db.execute(
                    "SELECT c.id, c.public_id, c.generation, c.audio_file, c.attempts, s.fields"
                    " FROM chunks c JOIN sessions s ON s.id = c.session_id"
                    f" WHERE {where} ORDER BY c.queued_at, c.id LIMIT 1",
                    params,
                ).fetchone()
                if row is None:
                    return None
                if row["attempts"] >= MAX_ATTEMPTS:
                    db.execute(
                        "UPDATE chunks SET state = 'FAILED', reason = ? WHERE id = ?",
                        ("transcription was interrupted repeatedly; giving up", row["id"]),
                    )
                    db.execute("DELETE FROM chunk_windows WHERE chunk_id = ?", (row["id"],))
                    continue
                db.execute(
                    "UPDATE chunks SET state = 'WORKING', attempts = attempts + 1 WHERE id = ?",
                    (row["id"],),
                )
                language = json.loads(row["fields"]).get("language_code")
                return Job(
                    row["id"],
                    row["public_id"],
                    row["generation"],
                    row["audio_file"],
                    language if isinstance(language, str) else None,
                )

    def windows_done(self, job: Job) -> list[WindowDone]:
        """The windows of this chunk transcribed so far (by an earlier run too), in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, end_sample, text FROM chunk_windows"
                " WHERE chunk_id = ? AND generation = ? ORDER BY seq",
                (job.chunk_id, job.generation),
            ).fetchall()
        return [WindowDone(r["seq"], r["end_sample"], r["text"]) for r in rows]

    def save_window(self, job: Job, window: WindowDone) -> bool:
        """Keep a finished window's text (durably, before the next window is started);
        False when the chunk was replaced or is no longer ours. Progress made: the
        interruptions counted against the chunk start again from zero."""
        with self._tx() as db:
            ours = db.execute(
                "UPDATE chunks SET attempts = 0 WHERE id = ? AND generation = ?"
                " AND state = 'WORKING'",
                (job.chunk_id, job.generation),
            ).rowcount
            if ours != 1:
                return False
            db.execute(
                "DELETE FROM chunk_windows WHERE chunk_id = ? AND (generation != ? OR seq >= ?)",
                (job.chunk_id, job.generation, window.seq),
            )
            db.execute(
                "INSERT INTO chunk_windows (chunk_id, generation, seq, end_sample, text)"
                " VALUES (?,?,?,?,?)",
                (job.chunk_id, job.generation, window.seq, window.end_sample, window.text),
            )
            self._touch_chunk_session(db, job.chunk_id)
        return True

    def complete(self, job: Job, text: str, duration: float) -> bool:
        """Record a transcript unless the chunk was replaced meanwhile."""
        with self._tx() as db:
            done = db.execute(
                "UPDATE chunks SET state = 'READY', text = ?, duration = ?, reason = NULL"
                " WHERE id = ? AND generation = ? AND state = 'WORKING'",
                (text, duration, job.chunk_id, job.generation),
            ).rowcount
            self._forget_windows(db, job, done)
            self._touch_chunk_session(db, job.chunk_id)
            return done == 1

    def fail(self, job: Job, reason: str) -> bool:
        with self._tx() as db:
            done = db.execute(
                "UPDATE chunks SET state = 'FAILED', reason = ?"
                " WHERE id = ? AND generation = ? AND state = 'WORKING'",
                (reason, job.chunk_id, job.generation),
            ).rowcount
            self._forget_windows(db, job, done)
            self._touch_chunk_session(db, job.chunk_id)
            return done == 1

    def _forget_windows(self, db: sqlite3.Connection, job: Job, final: int) -> None:
        """The chunk's result is final: its window texts are no longer needed (patient data)."""
        if final == 1:
            db.execute("DELETE FROM chunk_windows WHERE chunk_id = ?", (job.chunk_id,))

    def _touch_chunk_session(self, db: sqlite3.Connection, chunk_id: int) -> None:
        """A chunk's result counts as activity: retention runs from the last transcript."""
        db.execute(
            "UPDATE sessions SET active_at = ? WHERE id = (SELECT session_id FROM chunks"
            " WHERE id = ?)",
            (self._clock(), chunk_id),
        )

    # --- retention ------------------------------------------------------------------

    def purge_idle(self, idle_before: float) -> Purged:
        """Drop every session last written to before `idle_before` (store clock seconds),
        with its recordings, chunks and transcripts, unless a chunk of it still waits to be
        transcribed (STORED, QUEUED or WORKING): such a session is kept whole."""
        with self._tx() as db:
            expired = [
                str(row[0])
                for row in db.execute(
                    "SELECT s.id FROM sessions s WHERE s.active_at < ? AND NOT EXISTS"
                    " (SELECT 1 FROM chunks c WHERE c.session_id = s.id AND c.state IN (?,?,?))",
                    (idle_before, *PENDING_STATES),
                )
            ]
            files: list[str] = []
            for session_id in expired:
                files += [
                    str(row[0])
                    for row in db.execute(
                        "SELECT audio_file FROM chunks WHERE session_id = ?", (session_id,)
                    )
                ]
                db.execute("DELETE FROM chunks WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM recordings WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if expired:
            # Move the WAL into the database (whose deleted pages are zeroed) and empty it,
            # so the dropped transcripts are not left readable in the log either.
            with self._lock:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return Purged(len(expired), files)
