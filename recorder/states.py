"""The explicit states of recordings, chunks and the recording session.

Stored as their string values in SQLite and shown as-is in the CLI and UI,
so the values are part of the on-disk format: add, never rename.
"""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    """The recording session state machine (DESIGN.md step 8)."""

    IDLE = "idle"
    RECORDING = "recording"
    PAUSED = "paused"
    FINISHING = "finishing"  # capture stopped; last chunk flushed; uploads draining
    DONE = "done"
    FAILED = "failed"


class RecordingState(StrEnum):
    """A recording in the spool."""

    RECORDING = "recording"  # capture in progress (or crashed: recovery turns it into INTERRUPTED)
    RECORDED = "recorded"  # capture ended normally; every chunk is in the spool
    INTERRUPTED = "interrupted"  # capture ended by a crash; the journal was recovered into a chunk
    FINISHED = "finished"  # every chunk uploaded and `:finish` called
    DONE = "done"  # final transcript fetched


class ChunkState(StrEnum):
    """A chunk's local state, from the spool's point of view."""

    QUEUED = "queued"  # committed in the spool, waiting to be uploaded
    UPLOADING = "uploading"
    RETRYING = "retrying"  # a retryable failure; next_attempt_at says when
    UPLOADED = "uploaded"
    REJECTED = "rejected"  # a non-retryable 4xx; audio kept; can be retried by the user


class ServerStatus(StrEnum):
    """A chunk's status as the transcription server reports it."""

    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
