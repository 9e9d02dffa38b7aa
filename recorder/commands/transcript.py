"""`ambient-recorder transcript SESSION_ID`: print a session's final or live transcript."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

from recorder import exit_codes
from recorder.commands.common import (
    add_data_dir,
    add_server_options,
    connected_client,
    load_settings,
    not_blank,
    seconds,
)
from recorder.events import Event, TranscriptUpdated
from recorder.heidi.client import HeidiClient
from recorder.heidi.errors import HeidiError
from recorder.transcript import TranscriptPoller, joined_text, merge_live


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "transcript",
        help="print a session's transcript (final, or live with --live)",
        description="Print the final transcript of SESSION_ID, or with --live the live "
        "transcript and each chunk's status; --follow keeps printing changes until Ctrl-C.",
    )
    parser.add_argument("session_id", type=not_blank, metavar="SESSION_ID")
    parser.add_argument("--live", action="store_true", help="the live (per-chunk) transcript")
    parser.add_argument("--follow", action="store_true", help="with --live: keep following")
    parser.add_argument(
        "--timeout", type=seconds, default=None, metavar="S", help="with --follow: stop after S s"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_server_options(parser)
    add_data_dir(parser)
    parser.set_defaults(run=run)


def as_json(update: TranscriptUpdated) -> dict[str, Any]:
    return {
        "session_id": update.session_id,
        "final": update.final,
        "transcript": update.transcript,
        "chunks": [
            {
                "index": c.index,
                "id": c.chunk_id,
                "status": c.status.value,
                "duration": c.duration_s,
                "source": c.source,
                "text": c.text,
            }
            for c in update.chunks
        ],
    }


def _print(update: TranscriptUpdated, as_json_lines: bool) -> None:
    if as_json_lines:
        print(json.dumps(as_json(update)), flush=True)
        return
    if update.chunks:
        for chunk in update.chunks:
            text = f"  {chunk.text.strip()}" if chunk.text.strip() else ""
            print(f"[{chunk.index}] {chunk.status.value}{text}")
    else:
        print(update.transcript.strip())
    print("", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.follow and not args.live:
        print("error: --follow needs --live", file=sys.stderr)
        return exit_codes.USAGE
    settings = load_settings(args, needs_server=True)
    try:
        with connected_client(args, settings) as client:
            if not args.live:
                final = client.transcript(args.session_id)
                update = TranscriptUpdated("", args.session_id, (), final.transcript, final=True)
                _print(update, args.json)
                return exit_codes.OK
            if not args.follow:
                live = client.live_transcript(args.session_id)
                chunks = merge_live(live, None)
                text = joined_text(chunks) or live.transcript
                _print(TranscriptUpdated("", args.session_id, chunks, text), args.json)
                return exit_codes.OK
            return _follow(client, args)
    except HeidiError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


def _follow(client: HeidiClient, args: argparse.Namespace) -> int:
    """Print each change until Ctrl-C or --timeout; errors are reported, polling goes on."""
    lock = threading.Lock()

    def show(event: Event) -> None:
        if isinstance(event, TranscriptUpdated):
            with lock:
                _print(event, args.json)

    poller = TranscriptPoller(client, "", args.session_id, show, active=lambda: True)
    poller.poll_once()  # the first answer (or its error) comes straight to the user
    poller.start()
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    last_error: str | None = None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
            if poller.last_error and poller.last_error != last_error:
                last_error = poller.last_error
                print(f"warning: {last_error}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        poller.stop()
    return exit_codes.OK
