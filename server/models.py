"""Request and response bodies, bounded so no field can grow without limit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from server.languages import LANGUAGE_CODE_HINT, is_language_code

ShortText = Annotated[str, Field(max_length=256)]
Note = Annotated[str, Field(max_length=20_000)]


def _language_code(value: str) -> str:
    if not is_language_code(value):
        raise ValueError(LANGUAGE_CODE_HINT)
    return value


LanguageCode = Annotated[str, Field(max_length=16), AfterValidator(_language_code)]


def _whole_number(value: Any) -> Any:
    """The spec's `duration` is a JSON integer: 61 (or 61.0), never 61.4, "61" or true."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number of seconds")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number of seconds")
    return int(value)


Seconds = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=7 * 24 * 3600)]
Status = Literal["PENDING", "READY", "FAILED"]
Source = Literal["USER_UPLOADED", "LIVE", "BACKUP"]


class Jwt(BaseModel):
    token: str
    expiration_time: str


def _check_text(value: Any, depth: int = 0) -> None:
    """Strings must be valid Unicode (no lone surrogates, which JSON cannot carry back out)."""
    if depth > 32:
        raise ValueError("nested too deeply")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1)
            _check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, depth + 1)


class CleanText(BaseModel):
    """A request body whose every string can be stored and sent back as UTF-8 JSON."""

    @model_validator(mode="after")
    def _valid_unicode(self) -> CleanText:
        _check_text(self.model_dump())
        return self


class SessionCreate(CleanText):
    model_config = ConfigDict(extra="ignore")
    patient_profile_id: ShortText | None = None
    ehr_appointment_id: ShortText | None = None


class SessionCreated(BaseModel):
    session_id: str


class SessionUpdate(CleanText):
    """The fields a client may change; unknown fields are ignored as Heidi would. Types are
    the spec's, without coercion (no "true" for true, no 61.4 for an integer).

    A field sent as null goes back to its default."""

    model_config = ConfigDict(extra="ignore")
    duration: Seconds | None = None
    language_code: LanguageCode | None = None
    output_language_code: LanguageCode | None = None
    patient: dict[str, Any] | None = None
    clinician_notes: Annotated[list[Note], Field(max_length=100)] | None = None
    ehr_appointment_id: ShortText | None = None
    ehr_patient_id: ShortText | None = None
    consent_obtained: StrictBool | None = None
    linked_sessions_for_context: Annotated[list[ShortText], Field(max_length=100)] | None = None


class Session(BaseModel):
    """Sent with unset fields left out: the spec's types (string, integer, object) admit no
    null."""

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
