"""Audio in (live segments, whole-file upload) and transcripts out."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from server.errors import ApiError
from server.models import (
    LiveChunk,
    LiveTranscript,
    RecordingCreated,
    Success,
    Transcript,
    UploadAudioResult,
    UploadedAudio,
)
from server.services import Services, ServicesDep, UserDep, owned_session
from server.store import PENDING_STATES, ChunkRow, SessionGone
from server.uploads import UPLOAD_BODY_SCHEMA, SavedAudio, receive_audio

router = APIRouter(tags=["Transcription"])

MAX_INDEX = 99_999  # > 60 days of 60 s chunks
_INDEX_RE = re.compile(r"[0-9]{1,5}", re.ASCII)
SEGMENTS = "/sessions/{session_id}/restful-segment-transcription"
RecordingStatus = Literal["in_progress", "completed"]


def _multipart_body(extra_fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {
        **UPLOAD_BODY_SCHEMA,
        "properties": {**UPLOAD_BODY_SCHEMA["properties"], **extra_fields},
        "required": ["file", *required],
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
    }


def _parse_index(fields: dict[str, str]) -> int:
    raw = fields.get("index")
    if raw is None:
        raise ApiError(422, "ValidationError", "index: the form field 'index' is required")
    if not _INDEX_RE.fullmatch(raw) or int(raw) > MAX_INDEX:
        raise ApiError(
            422, "ValidationError", f"index: must be a whole number from 0 to {MAX_INDEX}"
        )
    return int(raw)


def _check_iso_time(name: str, fields: dict[str, str]) -> None:
    value = fields.get(name)
    if value is None:
        return
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "ValidationError", f"{name}: must be an ISO 8601 date-time") from None


def _open_recording(services: Services, session_id: str, recording_id: str) -> str:
    state = services.store.recording_state(session_id, recording_id)
    if state is None:
        raise ApiError(404, "RecordingNotFoundError", "Recording not found")
    return state


def _session_gone(services: Services, saved: SavedAudio | None = None) -> ApiError:
    """Retention dropped the session while the request was in flight: 404 as for any
    unknown session, and the audio just stored is not kept."""
    if saved is not None:
        (services.config.audio_dir / saved.file_name).unlink(missing_ok=True)
    return ApiError(404, "SessionNotFoundError", "Session not found")


@router.post(SEGMENTS, response_model=RecordingCreated, summary="Start Segment Transcription")
def start_recording(session_id: str, services: ServicesDep, user: UserDep) -> RecordingCreated:
    owned_session(services, user, session_id)
    try:
        return RecordingCreated(recording_id=services.store.create_recording(session_id))
    except SessionGone:
        raise _session_gone(services) from None


@router.post(
    SEGMENTS + "/{recording_id}:transcribe",
    response_model=Success,
    summary="Upload One Chunk",
    description="A repeated index replaces the earlier chunk of that index.",
    openapi_extra=_multipart_body(
        {"index": {"type": "string", "pattern": "^[0-9]{1,5}$"}}, ["index"]
    ),
)
async def transcribe_chunk(
    session_id: str, recording_id: str, request: Request, services: ServicesDep, user: UserDep
) -> Success:
    await run_in_threadpool(owned_session, services, user, session_id)
    if await run_in_threadpool(_open_recording, services, session_id, recording_id) != "open":
        raise ApiError(409, "RecordingFinishedError", "the recording is already finished")
    saved = await receive_audio(
        request,
        services.config.audio_dir,
        ("index",),
        _parse_index,
        services.config.max_upload_bytes,
    )
    index = _parse_index(saved.fields)
    try:
        stored = await run_in_threadpool(
            services.store.put_segment,
            session_id,
            recording_id,
            index,
            saved.file_name,
            saved.duration,
        )
    except SessionGone:
        raise _session_gone(services, saved) from None
    if stored.replaced_file:
        (services.config.audio_dir / stored.replaced_file).unlink(missing_ok=True)
    services.pool.wake()
    return Success(is_success=True)


@router.post(
    SEGMENTS + "/{recording_id}:finish", response_model=Success, summary="Finish Recording"
)
def finish_recording(
    session_id: str, recording_id: str, services: ServicesDep, user: UserDep
) -> Success:
    owned_session(services, user, session_id)
    _open_recording(services, session_id, recording_id)
    services.store.finish_recording(recording_id)
    return Success(is_success=True)


def _check_upload_fields(fields: dict[str, str]) -> None:
    _check_iso_time("start_time", fields)
    _check_iso_time("end_time", fields)


@router.post(
    "/sessions/{session_id}/upload-audio",
    response_model=UploadAudioResult,
    summary="Upload Session Audio",
    description="Stored now, transcribed on the next transcript GET.",
    openapi_extra=_multipart_body(
        {
            "start_time": {"type": "string", "format": "date-time"},
            "end_time": {"type": "string", "format": "date-time"},
        },
        [],
    ),
)
async def upload_audio(
    session_id: str, request: Request, services: ServicesDep, user: UserDep
) -> UploadAudioResult:
    await run_in_threadpool(owned_session, services, user, session_id)
    saved = await receive_audio(
        request,
        services.config.audio_dir,
        ("start_time", "end_time"),
        _check_upload_fields,
        services.config.max_upload_bytes,
    )
    try:
        upload_id, index, created = await run_in_threadpool(
            services.store.put_upload, session_id, saved.file_name, saved.duration
        )
    except SessionGone:
        raise _session_gone(services, saved) from None
    return UploadAudioResult(
        uploaded_audio=UploadedAudio(
            id=upload_id,
            index=index,
            status="INITIALIZED",
            created_at=created,
            access_url=None,
            expiry=0,
        )
    )


def _active_source(rows: list[ChunkRow]) -> str:
    """An uploaded whole file (not failed) supersedes the live chunks; else the live chunks."""
    if any(r.source == "USER_UPLOADED" and r.state != "FAILED" for r in rows):
        return "USER_UPLOADED"
    return "LIVE"


def _live_chunk(row: ChunkRow) -> LiveChunk:
    status = "PENDING" if row.state in PENDING_STATES else row.state
    return LiveChunk(
        id=row.public_id,
        status=status,  # type: ignore[arg-type]
        duration=round(row.duration or 0.0, 3),
        text=(row.text or "") if row.state == "READY" else "",
        source=row.source,  # type: ignore[arg-type]
        error=row.reason if row.state == "FAILED" else None,
    )


def _joined(rows: list[ChunkRow], source: str) -> str:
    return " ".join(r.text for r in rows if r.source == source and r.state == "READY" and r.text)


def _with_status(rows: list[ChunkRow], status: RecordingStatus | None) -> list[ChunkRow]:
    """The chunks of recordings in that status: `in_progress` = live recordings not yet
    finished, `completed` = finished recordings and whole-file uploads; None = all."""
    if status is None:
        return rows
    wanted_finished = status == "completed"
    return [r for r in rows if (r.recording_finished is not False) == wanted_finished]


def _queue_lazy(services: Services, session_id: str) -> None:
    if services.store.queue_stored(session_id):
        services.pool.wake()


@router.get(
    "/sessions/{session_id}/transcript/live",
    response_model=LiveTranscript,
    response_model_exclude_none=True,
    summary="Get Live Session Transcript",
    description=(
        "`recording_status` (values unpublished by Heidi; this server's choice): `in_progress`"
        " shows only recordings not yet finished, `completed` only finished recordings and"
        " uploaded files. Without it, every chunk of the session is shown."
    ),
)
def live_transcript(
    session_id: str,
    services: ServicesDep,
    user: UserDep,
    recording_status: Annotated[RecordingStatus | None, Query()] = None,
) -> LiveTranscript:
    owned_session(services, user, session_id)
    _queue_lazy(services, session_id)
    rows = _with_status(services.store.chunks_of(session_id), recording_status)
    active = _active_source(rows)
    return LiveTranscript(
        session_id=session_id,
        transcript=_joined(rows, active),
        active_source=active,  # type: ignore[arg-type]
        chunks=[_live_chunk(r) for r in rows],
    )


@router.get(
    "/sessions/{session_id}/transcript", response_model=Transcript, summary="Get Session Transcript"
)
async def final_transcript(session_id: str, services: ServicesDep, user: UserDep) -> Transcript:
    """Waits for pending chunks (lazy uploads are transcribed now); 503 if that takes too long."""
    session = await run_in_threadpool(owned_session, services, user, session_id)
    await run_in_threadpool(_queue_lazy, services, session_id)
    deadline = time.monotonic() + services.config.transcript_wait_s
    while await run_in_threadpool(services.store.count_pending, session_id):
        if time.monotonic() >= deadline:
            raise ApiError(
                503,
                "TranscriptNotReadyError",
                "chunks are still being transcribed",
                {"Retry-After": "5"},
            )
        await asyncio.sleep(0.25)
    rows = await run_in_threadpool(services.store.chunks_of, session_id)
    return Transcript(
        session_id=session_id,
        transcript=_joined(rows, _active_source(rows)),
        language_code=session.get("language_code") or "en",
    )
