"""`ambient-recorder resume`: upload and finish every recording left queued or interrupted."""

from __future__ import annotations

import argparse
import sys

from recorder import exit_codes
from recorder.commands.common import (
    add_data_dir,
    add_server_options,
    load_settings,
    open_spool,
    seconds,
)
from recorder.commands.printer import EventPrinter
from recorder.errors import SpoolError
from recorder.heidi.errors import HeidiError
from recorder.states import RecordingState
from recorder.uplink import FINISH_WAIT_S, open_uplink

RESUMABLE = (RecordingState.RECORDED, RecordingState.INTERRUPTED, RecordingState.FINISHED)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="finish uploading recordings left queued or interrupted",
        description="Upload what is left of every recording that ended (normally or by a "
        "crash) but is not done, call :finish, and print the final transcripts.",
    )
    add_data_dir(parser)
    add_server_options(parser)
    parser.add_argument(
        "--skip-rejected",
        action="store_true",
        help="finish recordings even if the server rejected some chunks (their audio is kept)",
    )
    parser.add_argument(
        "--timeout", type=seconds, default=FINISH_WAIT_S, metavar="S", help="wait at most S s each"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args, needs_server=True)
    try:
        spool = open_spool(args)
    except SpoolError as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.SPOOL
    try:
        todo = [r.recording_id for r in spool.recordings() if r.state in RESUMABLE]
        if not todo:
            print("nothing to resume: every recording is done", file=sys.stderr)
            return exit_codes.OK
        print(f"resuming {len(todo)} recording(s)", file=sys.stderr, flush=True)
        printer = EventPrinter()
        try:
            uplink = open_uplink(spool, settings, printer, server_url=args.server, local=args.local)
        except HeidiError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
        worst = exit_codes.OK
        try:
            for recording_id in todo:
                uplink.service.request_finish(recording_id, skip_rejected=args.skip_rejected)
                code = uplink.finish(recording_id, printer, timeout=args.timeout)
                print(
                    f"recording {recording_id}: {spool.recording(recording_id).state.value}",
                    flush=True,
                )
                worst = worst or code
        finally:
            uplink.close()
        return worst
    finally:
        spool.close()
