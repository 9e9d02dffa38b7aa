"""`ambient-recorder record`: record a consult into the spool and, unless --no-upload, upload it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from recorder import exit_codes
from recorder.audio import FileSpec, MicrophoneSpec, SourceSpec
from recorder.commands.common import (
    add_data_dir,
    add_server_options,
    language_code,
    load_settings,
    open_spool,
    seconds,
)
from recorder.commands.gap_report import warn_gaps
from recorder.commands.printer import EventPrinter
from recorder.errors import AudioInputError, BadAudioFileError, NoInputDeviceError, SpoolError
from recorder.gaps import read_gaps
from recorder.heidi.errors import ConfigError
from recorder.session import ConsultMeta, RecordingSession, SessionOptions
from recorder.settings import Settings
from recorder.spool import Spool
from recorder.states import SessionState
from recorder.uplink import Uplink, open_uplink


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "record",
        help="record a consult (microphone or a file played as one) into the spool",
        description="Record into the encrypted spool in 45-60 s chunks and upload them as the "
        "consult goes on. Ctrl-C stops cleanly: the last chunk is kept.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--device", metavar="NAME", help="input device name (or index)")
    source.add_argument("--input", metavar="FILE", type=Path, help="play FILE as the microphone")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help=f"with --input: N times real time ({MIN_SPEED:g} to {MAX_SPEED:g}; 0: unthrottled)",
    )
    parser.add_argument("--duration", type=seconds, metavar="SECONDS", help="stop after SECONDS")
    add_data_dir(parser)
    parser.add_argument("--no-upload", action="store_true", help="only record into the spool")
    add_server_options(parser)
    parser.add_argument("--consent", action="store_true", help="the patient gave consent")
    parser.add_argument("--patient", default="", help="patient name or EHR id (never logged)")
    parser.add_argument(
        "--language", type=language_code, default=None, help="language code (default: settings)"
    )
    parser.set_defaults(run=run)


MIN_SPEED = 0.01  # below this a file takes longer than a day to play
MAX_SPEED = 1000.0


def _speed(text: str) -> float:
    """argparse type for --speed: 0 (flat out) or a finite factor in [MIN_SPEED, MAX_SPEED]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != 0 and not MIN_SPEED <= value <= MAX_SPEED:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"must be 0 (unthrottled) or between {MIN_SPEED:g} and {MAX_SPEED:g}, not {text!r}"
        )
    return value


def _source(args: argparse.Namespace) -> SourceSpec:
    if args.input is not None:
        return FileSpec(args.input, speed=1.0 if args.speed is None else args.speed)
    device: str | int | None = args.device
    if isinstance(device, str) and device.isdigit():
        device = int(device)
    return MicrophoneSpec(device)


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with this combination of options, if anything."""
    if args.speed is not None and args.input is None:
        return "--speed only applies to --input FILE."
    if args.device is not None and not args.device.strip():
        return "--device is empty: give a device name or index (see `ambient-recorder devices`)."
    if args.no_upload and (args.server or args.local):
        return "--no-upload cannot be combined with --server or --local."
    return None


def run(args: argparse.Namespace) -> int:
    problem = _usage_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return exit_codes.USAGE
    settings = load_settings(args, needs_server=not args.no_upload)
    try:
        source = _source(args)
        spool = open_spool(args)
    except (AudioInputError, BadAudioFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.AUDIO_INPUT
    except SpoolError as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.SPOOL
    printer = EventPrinter()
    uplink: Uplink | None = None
    if not args.no_upload:
        try:
            uplink = open_uplink(spool, settings, printer, server_url=args.server, local=args.local)
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            spool.close()
            return error.exit_code
    try:
        return _record(args, settings, spool, source, printer, uplink)
    finally:
        if uplink is not None:
            uplink.close()
        spool.close()


def _record(
    args: argparse.Namespace,
    settings: Settings,
    spool: Spool,
    source: SourceSpec,
    printer: EventPrinter,
    uplink: Uplink | None,
) -> int:
    meta = ConsultMeta(
        consent_obtained=bool(args.consent),
        patient_ref=args.patient,
        language_code=args.language or settings.language_code,
    )
    options = SessionOptions(
        chunk_min_s=settings.chunk_min_s,
        chunk_max_s=settings.chunk_max_s,
        duration_s=args.duration,
        reconnect_limit_s=settings.reconnect_minutes * 60.0,
    )
    session = RecordingSession(
        spool,
        source,
        meta,
        printer,
        options=options,
        on_chunk=(lambda _row: uplink.service.wake()) if uplink is not None else None,
    )
    try:
        rid = session.start()
    except (NoInputDeviceError, AudioInputError, BadAudioFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.AUDIO_INPUT
    except SpoolError as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.SPOOL
    print(f"recording {rid} started", file=sys.stderr, flush=True)
    with _stop_on_interrupt(session.stop):
        while not session.wait(0.2):
            pass
    code = exit_codes.OK
    if session.state == SessionState.FAILED:
        failure = session.failure
        code = exit_codes.SPOOL if isinstance(failure, SpoolError) else exit_codes.AUDIO_INPUT
    if uplink is not None:
        uplink_code = uplink.finish(rid, printer)
        code = code or uplink_code
    if uplink is None:  # no transcript will mark the gaps: name them (uploads do, see finish)
        warn_gaps(rid, read_gaps(spool, rid))
    chunks = len(session.chunks)
    print(f"{chunks} chunks, {session.elapsed_s:.1f} s recorded: recording {rid}", flush=True)
    return code


class _stop_on_interrupt:
    """First Ctrl-C (or SIGTERM) stops the recording cleanly; the last chunk is still flushed."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        print("stopping: flushing the last chunk…", file=sys.stderr, flush=True)
        self._stop()

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
