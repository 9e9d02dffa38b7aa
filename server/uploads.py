"""Receiving an audio upload: multipart with bounded fields, `audio/*`, really decodable.

The file is stored under a name the server makes up (never the client's file name),
fsync'ed, and only then handed to the store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from server.audio import AudioRejected, AudioTooLong, probe
from server.errors import ApiError

MAX_FIELD_BYTES = 1024
MAX_FIELDS = 8
COPY_BLOCK = 1024 * 1024

UPLOAD_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}},
}


@dataclass(frozen=True)
class SavedAudio:
    file_name: str
    duration: float
    fields: dict[str, str]


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


class FileTooLarge(Exception):
    pass


def _copy_to_disk(source: IO[bytes], target: Path, max_bytes: int) -> int:
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while block := source.read(COPY_BLOCK):
            size += len(block)
            if size > max_bytes:
                raise FileTooLarge
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return size


def _check_and_keep(part: Path, final: Path) -> float:
    """Probe the stored bytes; keep them under the final name or delete them."""
    try:
        duration = probe(part)
    except AudioRejected:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, final)
    return duration


async def _read_form(request: Request) -> FormData:
    if _media_type(request.headers.get("content-type")) != "multipart/form-data":
        raise ApiError(
            415, "UnsupportedMediaTypeError", "expected multipart/form-data with an audio 'file'"
        )
    return await request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)


async def receive_audio(
    request: Request,
    audio_dir: Path,
    field_names: tuple[str, ...],
    check_fields: Callable[[dict[str, str]], object],
    max_bytes: int,
) -> SavedAudio:
    """Read the form, check its text fields, store its audio `file` if it really decodes."""
    form = await _read_form(request)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "ValidationError", "the multipart field 'file' (audio) is required")
        media = _media_type(upload.content_type)
        if not media.startswith("audio/"):
            raise ApiError(
                415,
                "UnsupportedMediaTypeError",
                f"the file must be audio/* (got {media[:60] or 'no content type'})",
            )
        fields: dict[str, str] = {}
        for name in field_names:
            value = form.get(name)
            if isinstance(value, UploadFile):
                raise ApiError(
                    422, "ValidationError", f"the field '{name}' must be text, not a file"
                )
            if value is not None:
                fields[name] = value
        check_fields(fields)
        audio_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = uuid.uuid4().hex
        part, final = audio_dir / f"{stem}.part", audio_dir / f"{stem}.audio"
        try:
            size = await run_in_threadpool(_copy_to_disk, upload.file, part, max_bytes)
        except FileTooLarge:
            part.unlink(missing_ok=True)
            raise ApiError(
                413, "PayloadTooLargeError", f"the audio file is larger than {max_bytes} bytes"
            ) from None
        except OSError:
            part.unlink(missing_ok=True)
            raise ApiError(
                507, "InsufficientStorageError", "the server could not store the audio"
            ) from None
        if size == 0:
            part.unlink(missing_ok=True)
            raise ApiError(422, "EmptyAudioError", "the audio file is empty")
        try:
            duration = await run_in_threadpool(_check_and_keep, part, final)
        except AudioTooLong as error:
            raise ApiError(422, "AudioTooLongError", str(error)) from None
        except AudioRejected as error:
            raise ApiError(422, "AudioNotDecodableError", str(error)) from None
        return SavedAudio(final.name, duration, fields)
    finally:
        await form.close()
