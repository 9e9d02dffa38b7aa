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


# Fields this recorder only shows or ignores: a missing, null or odd value is None, never an
# error, so an answer the spec allows (every response field is optional there) is never refused.


def loose_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def loose_number(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def loose_bool(obj: dict[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def parse_iso_time(text: str, what: str) -> float:
    """ISO 8601 / RFC 3339 (Z or an offset, `t`/`z` in either case; naive means UTC) → unix s."""
    try:
        moment = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise _garbage(f"{what} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class Token:
    """A bearer JWT and when it stops working (unix seconds).

    `expiry_known` is False when `expiration_time` was missing or unreadable: the token is
    still used (the client gives it a short life and refreshes on a 401) rather than
    stopping every upload over a date it cannot read.
    """

    token: str
    expires_at: float
    expiry_known: bool = True

    @classmethod
    def parse(cls, data: Any) -> Token:
        obj = as_object(data, "token answer")
        token = req_str(obj, "token", "token answer")
        raw = obj.get("expiration_time")
        if isinstance(raw, str):
            try:
                return cls(token, parse_iso_time(raw, "expiration_time"))
            except ServerDownError:
                pass
        return cls(token, 0.0, expiry_known=False)


@dataclass(frozen=True)
class SessionInfo:
    """The parts of a Heidi session this recorder reads back."""

    session_id: str
    consent_obtained: bool | None = None
    language_code: str | None = None
    duration_s: float | None = None

    @classmethod
    def parse(cls, data: Any, session_id: str | None = None) -> SessionInfo:
        """The spec's Session has no required field: `session_id` falls back to the one asked
        for; the others are None when missing or odd (only read back, never relied on)."""
        obj = as_object(data, "session")
        sid = loose_str(obj, "session_id") or session_id
        if not sid:
            raise _garbage("session.session_id is missing or not a string")
        return cls(
            session_id=sid,
            consent_obtained=loose_bool(obj, "consent_obtained"),
            language_code=loose_str(obj, "language_code"),
            duration_s=loose_number(obj, "duration"),
        )


@dataclass(frozen=True)
class UploadedAudio:
    """The answer to a single-file upload."""

    audio_id: str
    index: int | None
    status: str

    @classmethod
    def parse(cls, data: Any) -> UploadedAudio | None:
        """The `uploaded_audio` record Heidi's docs show, or None: the published spec gives
        this 200 no body at all, so the audio counts as stored whatever the body says
        (refusing it would make the caller upload the same audio again)."""
        outer = data if isinstance(data, dict) else {}
        obj = outer.get("uploaded_audio")
        if not isinstance(obj, dict):
            return None
        raw_id = obj.get("id")
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or raw_id == "":
            return None
        index = loose_number(obj, "index")
        return cls(
            audio_id=str(raw_id),
            index=None if index is None or not index.is_integer() else int(index),
            status=loose_str(obj, "status") or "",
        )


@dataclass(frozen=True)
class Transcript:
    """The final transcript of a session."""

    session_id: str | None
    transcript: str
    language_code: str | None

    @classmethod
    def parse(cls, data: Any) -> Transcript:
        """`transcript` is relied on (an answer without it is an error, retried, never an
        empty final transcript); `session_id` and `language_code` are only informative."""
        obj = as_object(data, "transcript")
        return cls(
            session_id=loose_str(obj, "session_id"),
            transcript=req_str(obj, "transcript", "transcript", allow_empty=True),
            language_code=loose_str(obj, "language_code"),
        )


def parse_status(value: Any, what: str) -> ServerStatus:
    """PENDING / READY / FAILED; an unknown word, or none (the spec does not require it),
    counts as PENDING (not done, not lost)."""
    if value is None:
        return ServerStatus.PENDING
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
            duration_s=loose_number(obj, "duration") or 0.0,
            source=loose_str(obj, "source") or "",  # shown only; an unknown value is kept
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
            session_id=loose_str(obj, "session_id"),
            transcript=opt_str(obj, "transcript", "live transcript") or "",
            active_source=loose_str(obj, "active_source"),
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
