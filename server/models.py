"""Request and response bodies, bounded so no field can grow without limit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ShortText = Annotated[str, Field(max_length=256)]
Note = Annotated[str, Field(max_length=20_000)]
Status = Literal["PENDING", "READY", "FAILED"]
Source = Literal["USER_UPLOADED", "LIVE", "BACKUP"]


class Jwt(BaseModel):
    token: str
    expiration_time: str


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    patient_profile_id: ShortText | None = None
    ehr_appointment_id: ShortText | None = None


class SessionCreated(BaseModel):
    session_id: str


class SessionUpdate(BaseModel):
    """The fields a client may change; unknown fields are ignored as Heidi would."""

    model_config = ConfigDict(extra="ignore")
    duration: Annotated[float, Field(ge=0, le=7 * 24 * 3600)] | None = None
    language_code: Annotated[str, Field(max_length=16)] | None = None
    output_language_code: Annotated[str, Field(max_length=16)] | None = None
    patient: dict[str, Any] | None = None
    clinician_notes: Annotated[list[Note], Field(max_length=100)] | None = None
    ehr_appointment_id: ShortText | None = None
    ehr_patient_id: ShortText | None = None
    consent_obtained: bool | None = None
    linked_sessions_for_context: Annotated[list[ShortText], Field(max_length=100)] | None = None


class Session(BaseModel):
    session_id: str
    patient_profile_id: str | None = None
    ehr_appointment_id: str | None = None
    ehr_patient_id: str | None = None
    patient: dict[str, Any] | None = None
    duration: int | None = None
    language_code: str | None = None
    output_language_code: str | None = None
    clinician_notes: list[str] = []
    consent_obtained: bool | None = None
    linked_sessions_for_context: list[str] = []
    created_at: str
    updated_at: str


class RecordingCreated(BaseModel):
    recording_id: str


class Success(BaseModel):
    is_success: bool


class UploadedAudio(BaseModel):
    id: str
    index: int
    status: Literal["INITIALIZED"]
    created_at: str
    access_url: str | None
    expiry: int


class UploadAudioResult(BaseModel):
    uploaded_audio: UploadedAudio


class Transcript(BaseModel):
    session_id: str
    transcript: str
    language_code: str


class LiveChunk(BaseModel):
    id: str
    status: Status
    duration: float
    text: str
    source: Source
    error: str | None = None  # why a FAILED chunk failed (local server addition)


class LiveTranscript(BaseModel):
    session_id: str
    transcript: str
    active_source: Source
    chunks: list[LiveChunk]


class Health(BaseModel):
    status: str


class ErrorDetail(BaseModel):
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: ErrorDetail
