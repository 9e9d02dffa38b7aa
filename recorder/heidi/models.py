"""Typed results of Heidi calls, parsed defensively from whatever JSON came back.

A server (or a proxy in front of it) can answer anything: every parser checks
types and raises ServerDownError naming the field, instead of letting a
KeyError or TypeError escape into a worker thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from recorder.heidi.errors import ServerDownError
from recorder.states import ServerStatus

MAX_INDEX_DIGITS = 6  # a million chunks of 45 s is more than a year of audio


def _garbage(what: str) -> ServerDownError:
    return ServerDownError(f"The server's answer does not match the Heidi API ({what}).")


def as_object(value: Any, what: str) -> dict[str, Any]:
    """The value as a JSON object, or a clear error."""
    if not isinstance(value, dict):
        raise _garbage(f"{what} is not a JSON object")
    return value


def req_str(obj: dict[str, Any], key: str, what: str, *, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and not value):
        raise _garbage(f"{what}.{key} is missing or not a string")
    return value


def opt_str(obj: dict[str, Any], key: str, what: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _garbage(f"{what}.{key} is not a string")
    return value


def opt_number(obj: dict[str, Any], key: str, what: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _garbage(f"{what}.{key} is not a number")
    return float(value)


def opt_bool(obj: dict[str, Any], key: str, what: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _garbage(f"{what}.{key} is not true/false")
    return value


def parse_iso_time(text: str, what: str) -> float:
    """ISO 8601 (with Z or an offset; naive means UTC) → unix seconds."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _garbage(f"{what} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class Token:
    """A bearer JWT and when it stops working (unix seconds)."""

    token: str
    expires_at: float

    @classmethod
    def parse(cls, data: Any) -> Token:
        obj = as_object(data, "token answer")
        return cls(
            token=req_str(obj, "token", "token answer"),
            expires_at=parse_iso_time(
                req_str(obj, "expiration_time", "token answer"), "expiration_time"
            ),
        )


@dataclass(frozen=True)
class SessionInfo:
    """The parts of a Heidi session this recorder reads back."""

    session_id: str
    consent_obtained: bool | None = None
    language_code: str | None = None
    duration_s: float | None = None

    @classmethod
    def parse(cls, data: Any) -> SessionInfo:
        obj = as_object(data, "session")
        return cls(
            session_id=req_str(obj, "session_id", "session"),
            consent_obtained=opt_bool(obj, "consent_obtained", "session"),
            language_code=opt_str(obj, "language_code", "session"),
            duration_s=opt_number(obj, "duration", "session"),
        )


@dataclass(frozen=True)
class UploadedAudio:
    """The answer to a single-file upload."""

    audio_id: str
    index: int | None
    status: str

    @classmethod
    def parse(cls, data: Any) -> UploadedAudio:
        outer = as_object(data, "upload answer")
        obj = as_object(outer.get("uploaded_audio"), "upload answer.uploaded_audio")
        index = opt_number(obj, "index", "uploaded_audio")
        raw_id = obj.get("id")
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
            raise _garbage("uploaded_audio.id is missing")
        return cls(
            audio_id=str(raw_id),
            index=None if index is None else int(index),
            status=opt_str(obj, "status", "uploaded_audio") or "",
        )


@dataclass(frozen=True)
class Transcript:
    """The final transcript of a session."""

    session_id: str | None
    transcript: str
    language_code: str | None

    @classmethod
    def parse(cls, data: Any) -> Transcript:
        obj = as_object(data, "transcript")
        return cls(
            session_id=opt_str(obj, "session_id", "transcript"),
            transcript=req_str(obj, "transcript", "transcript", allow_empty=True),
            language_code=opt_str(obj, "language_code", "transcript"),
        )


def parse_status(value: Any, what: str) -> ServerStatus:
    """PENDING / READY / FAILED; an unknown word counts as PENDING (not done, not lost)."""
    if not isinstance(value, str):
        raise _garbage(f"{what}.status is not a string")
    try:
        return ServerStatus(value.upper())
    except ValueError:
        return ServerStatus.PENDING


@dataclass(frozen=True)
class LiveChunk:
    """One chunk of the live transcript, as the server lists it."""

    chunk_id: str
    status: ServerStatus
    text: str
    duration_s: float
    source: str

    def index_in(self, recording_id: str | None) -> int | None:
        """The upload index when the id is `<recording_id>-<index>` (the local server's form)."""
        prefix, _, tail = self.chunk_id.rpartition("-")
        if not tail.isdigit() or not prefix or len(tail) > MAX_INDEX_DIGITS:
            return None  # e.g. the last group of a UUID that happens to be all digits
        if recording_id is not None and prefix != recording_id:
            return None
        return int(tail)

    @classmethod
    def parse(cls, data: Any, position: int) -> LiveChunk:
        what = f"chunks[{position}]"
        obj = as_object(data, what)
        raw_id = obj.get("id")
        if raw_id is None:
            raw_id = str(position)
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
            raise _garbage(f"{what}.id is not a string")
        return cls(
            chunk_id=str(raw_id),
            status=parse_status(obj.get("status"), what),
            text=opt_str(obj, "text", what) or "",
            duration_s=opt_number(obj, "duration", what) or 0.0,
            source=opt_str(obj, "source", what) or "",
        )


@dataclass(frozen=True)
class LiveTranscript:
    """The live transcript: overall text plus each chunk's status and text."""

    session_id: str | None
    transcript: str
    active_source: str | None
    chunks: tuple[LiveChunk, ...]

    @classmethod
    def parse(cls, data: Any) -> LiveTranscript:
        obj = as_object(data, "live transcript")
        raw_chunks = obj.get("chunks")
        if raw_chunks is None:
            raw_chunks = []
        if not isinstance(raw_chunks, list):
            raise _garbage("live transcript.chunks is not a list")
        return cls(
            session_id=opt_str(obj, "session_id", "live transcript"),
            transcript=opt_str(obj, "transcript", "live transcript") or "",
            active_source=opt_str(obj, "active_source", "live transcript"),
            chunks=tuple(LiveChunk.parse(item, i) for i, item in enumerate(raw_chunks)),
        )


def require_success(data: Any, what: str) -> None:
    """Accept `{"is_success": true}` (or a 2xx with no such field: HTTP already said yes).

    An explicit false means the server did not do it: a retryable ServerDownError.
    """
    obj = as_object(data, what)
    flag = obj.get("is_success", True)
    if flag is not True:
        raise ServerDownError(f"The server did not confirm {what} (is_success is {flag!r}).")


def require_id(data: Any, key: str, what: str) -> str:
    """A non-empty string id from `{key: "..."}`."""
    return req_str(as_object(data, what), key, what)
