"""`ambient-recorder transcript SESSION_ID`: print a session's final or live transcript.

When SESSION_ID belongs to a recording in our spool, the gaps in its audio (microphone lost)
are shown where they fell, as in the app; for a session we did not record there is nothing
to say about gaps (JSON `"gaps": null`). A recording sent again to a new session (the server
had lost it) is still found by its earlier session's id.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from recorder import exit_codes, paths
from recorder.commands.common import (
    add_data_dir,
    add_server_options,
    connected_client,
    load_settings,
    not_blank,
    seconds,
)
from recorder.commands.gap_report import chunk_lines, gap_dict, transcript_text
from recorder.errors import RecorderError
from recorder.events import AudioGap, Event, TranscriptUpdated
from recorder.gaps import read_gaps
from recorder.heidi.client import HeidiClient
from recorder.heidi.errors import HeidiError
from recorder.spool import DB_NAME, NotFoundError, SessionMatch, Spool
from recorder.transcript import TranscriptPoller, joined_text, merge_live


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "transcript",
        help="print a session's transcript (final, or live with --live)",
        description="Print the final transcript of SESSION_ID, or with --live the live "
        "transcript and each chunk's status; --follow keeps printing changes until Ctrl-C. "
        "If the session is a recording in the spool (also by the id of a session it was "
        "sent to before being sent again to a new one) whose microphone was lost, each gap is "
        "marked where it fell ('[no audio for N s: microphone lost]', the chunks' texts then "
        'printed as paragraphs); --json adds the gaps as data ("gaps": a list, or null when '
        "the session is not one of the spool's recordings).",
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


def as_json(update: TranscriptUpdated, gaps: list[AudioGap] | None = None) -> dict[str, Any]:
    """The update as JSON; `gaps` is None when the session is not a recording in our spool."""
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
        "gaps": None if gaps is None else [gap_dict(g) for g in gaps],
    }


def _print(update: TranscriptUpdated, as_json_lines: bool, gaps: list[AudioGap] | None) -> None:
    if gaps and not update.final:  # live: the whole text too carries the markers (_final's does)
        text = transcript_text(update.transcript, update.chunks, gaps or [])
        update = TranscriptUpdated(
            update.recording_id, update.session_id, update.chunks, text, update.final
        )
    if as_json_lines:
        print(json.dumps(as_json(update, gaps)), flush=True)
        return
    if update.chunks:
        print("\n".join(chunk_lines(update.chunks, gaps or [])))
    else:
        print(update.transcript.strip())
    print("", flush=True)


class SessionGaps:
    """The gaps of the spool's recording that a session belongs to (re-read on each call).

    A session we did not record (another machine, `upload FILE`) is not in the spool: then
    there is nothing to show (gaps() is None). A spool is never created just to look.
    """

    def __init__(self, spool: Spool | None = None, match: SessionMatch | None = None) -> None:
        self._spool = spool
        self.recording_id = "" if match is None else match.recording.recording_id
        # The segment recording of the session asked for (an earlier session had its own).
        self.remote_recording_id = None if match is None else match.remote_recording_id

    @classmethod
    def look_up(cls, data_dir: Path, session_id: str) -> SessionGaps:
        if not (data_dir / DB_NAME).is_file():
            return cls()
        try:
            spool = Spool.open(data_dir)
        except (RecorderError, OSError) as error:
            print(
                f"warning: cannot tell whether this session's audio has gaps: the spool in "
                f"{data_dir} cannot be read ({error}).",
                file=sys.stderr,
            )
            return cls()
        try:  # the recording's current session, or one it was sent to before the server lost it
            match = spool.find_session(session_id)
            if not match.current:
                print(
                    f"note: session {session_id} is an earlier upload of recording "
                    f"{match.recording.recording_id}: the server in use then no longer knew it, "
                    f"so the recording was sent again as session {match.recording.session_id}.",
                    file=sys.stderr,
                )
            return cls(spool, match)
        except NotFoundError:
            pass
        except (RecorderError, OSError) as error:
            print(
                f"warning: cannot tell whether this session's audio has gaps: {error}",
                file=sys.stderr,
            )
        spool.close()
        return cls()

    def gaps(self) -> list[AudioGap] | None:
        """The recording's gaps, or None when the session is not one of our recordings."""
        if self._spool is None or not self.recording_id:
            return None
        return read_gaps(self._spool, self.recording_id)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()


def run(args: argparse.Namespace) -> int:
    if args.follow and not args.live:
        print("error: --follow needs --live", file=sys.stderr)
        return exit_codes.USAGE
    settings = load_settings(args, needs_server=True)
    known = SessionGaps.look_up(paths.data_dir(args.data_dir), args.session_id)
    try:
        with connected_client(args, settings) as client:
            if not args.live:
                _print(_final(client, args.session_id, known), args.json, known.gaps())
                return exit_codes.OK
            if not args.follow:
                live = client.live_transcript(args.session_id)
                chunks = merge_live(live, known.remote_recording_id)
                text = joined_text(chunks) or live.transcript
                update = TranscriptUpdated("", args.session_id, chunks, text)
                _print(update, args.json, known.gaps())
                return exit_codes.OK
            return _follow(client, args, known)
    except HeidiError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    finally:
        known.close()


def _final(client: HeidiClient, session_id: str, known: SessionGaps) -> TranscriptUpdated:
    """The final transcript; with gaps, the chunks' texts as paragraphs with the markers."""
    final = client.transcript(session_id)
    text = final.transcript
    gaps = known.gaps()
    if gaps:
        try:  # the chunks say where each gap falls in the text
            chunks = merge_live(client.live_transcript(session_id), known.remote_recording_id)
        except HeidiError as error:  # the markers then follow the text, as in the app
            print(
                f"warning: the chunks could not be read ({error}); the gaps are listed last.",
                file=sys.stderr,
            )
            chunks = ()
        text = transcript_text(final.transcript, chunks, gaps)
    return TranscriptUpdated("", session_id, (), text, final=True)


def _follow(client: HeidiClient, args: argparse.Namespace, known: SessionGaps) -> int:
    """Print each change until Ctrl-C or --timeout; errors are reported, polling goes on."""
    lock = threading.Lock()

    def show(event: Event) -> None:
        if isinstance(event, TranscriptUpdated):
            with lock:
                _print(event, args.json, known.gaps())

    poller = TranscriptPoller(
        client,
        "",
        args.session_id,
        show,
        active=lambda: True,
        remote_recording_id=known.remote_recording_id,
    )
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
