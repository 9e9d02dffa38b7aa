"""`ambient-recorder upload FILE`: the single-file (lazy) path — one upload, then the transcript."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import soundfile as sf

from recorder import exit_codes
from recorder.commands.common import (
    add_data_dir,
    add_server_options,
    connected_client,
    language_code,
    load_settings,
)
from recorder.errors import BadAudioFileError
from recorder.heidi.errors import HeidiError

MAX_FILE_BYTES = 512 * 1024 * 1024
CONTENT_TYPES = {
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".webm": "audio/webm",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "upload",
        help="upload one audio file and print its transcript",
        description="Create a session, upload FILE in one piece, then wait for and print the "
        "transcript and the session id.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="audio file (.ogg, .mp3, .wav …)")
    add_server_options(parser)
    parser.add_argument(
        "--language", type=language_code, default=None, help="language code (default: settings)"
    )
    parser.add_argument(
        "--consent", action="store_true", help="the patient gave consent (as `record --consent`)"
    )
    add_data_dir(parser)
    parser.set_defaults(run=run)


def read_audio_file(path: Path) -> tuple[bytes, str, float | None]:
    """The file's bytes, content type and seconds of audio (None where soundfile cannot tell:
    .m4a, .webm), after checking it is readable audio (not empty)."""
    if not path.is_file():
        raise BadAudioFileError(f"No such audio file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise BadAudioFileError(f"The file is empty: {path}")
    if size > MAX_FILE_BYTES:
        raise BadAudioFileError(f"The file is too large to upload in one piece ({size} bytes).")
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise BadAudioFileError(
            f"Unsupported audio file type {path.suffix or '(none)'}: use "
            + ", ".join(sorted(CONTENT_TYPES))
        )
    duration_s: float | None = None
    if content_type != "audio/mp4" and content_type != "audio/webm":
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, ValueError):
            raise BadAudioFileError(f"The file is not readable audio: {path}") from None
        if info.frames <= 0:
            raise BadAudioFileError(f"The file holds no audio: {path}")
        duration_s = info.frames / info.samplerate
    return path.read_bytes(), content_type, duration_s


def run(args: argparse.Namespace) -> int:
    try:
        audio, content_type, duration_s = read_audio_file(args.file)
    except BadAudioFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.AUDIO_INPUT
    settings = load_settings(args, needs_server=True)
    try:
        with connected_client(args, settings) as client:
            session_id = client.create_session()
            print(f"session {session_id}", file=sys.stderr, flush=True)
            client.update_session(  # what `record` tells Heidi too
                session_id,
                consent_obtained=bool(args.consent),
                language_code=args.language or settings.language_code,
                duration_s=duration_s,
            )
            client.upload_audio(
                session_id, audio, filename=args.file.name, content_type=content_type
            )
            print("uploaded; transcribing…", file=sys.stderr, flush=True)
            transcript = client.transcript(session_id)
    except HeidiError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    print(transcript.transcript.strip())
    print(f"session {session_id}")
    return exit_codes.OK
