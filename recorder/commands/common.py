"""Options and helpers shared by several commands."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recorder import paths
from recorder.errors import SpoolError
from recorder.heidi.client import HeidiClient
from recorder.settings import (
    ENV_API_KEY,
    Settings,
    SettingsError,
    effective_settings,
    validate_api_key,
    validate_language_code,
)
from recorder.spool import CHUNK_SUFFIX, JOURNAL_NAME, Spool
from recorder.uplink import target_session

MAX_SECONDS = 24 * 3600.0  # a day: longer than any consult; beyond it a typo is likelier


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0 and at most a day (nan, inf, -1 refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_SECONDS:.0f} seconds, not {text!r}"
        )
    return value


def language_code(text: str) -> str:
    """argparse type: a language code such as en, en-AU or fr (see settings)."""
    try:
        return validate_language_code(text)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def not_blank(text: str) -> str:
    """argparse type: refuses '' (an unset shell variable), which would mean "the default"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty (an unset variable?)")
    return text


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=not_blank,
        metavar="DIR",
        help="where the spool lives (default: AMBIENT_RECORDER_DATA_DIR, else the user data dir)",
    )


def open_spool(args: argparse.Namespace) -> Spool:
    """Open the spool and recover any recording a crash left behind (every start does this)."""
    spool = Spool.open(paths.data_dir(getattr(args, "data_dir", None)))
    if spool.key_warning:
        print(f"warning: {spool.key_warning}", file=sys.stderr)
    try:
        recovered = spool.recover_interrupted()
    except SpoolError as error:  # e.g. still full: the journal stays, the next start retries
        print(f"warning: a crashed recording could not be recovered yet: {error}", file=sys.stderr)
        return spool
    for rec in recovered:
        print(
            f"recovered interrupted recording {rec.recording_id} "
            f"({rec.duration_s:.1f} s kept; it will be uploaded by `resume`)",
            file=sys.stderr,
        )
    _warn_unlisted_folders(spool)
    return spool


def _holds_audio(folder: Path) -> bool:
    return (folder / JOURNAL_NAME).exists() or next(
        folder.glob(f"*{CHUNK_SUFFIX}"), None
    ) is not None


def _warn_unlisted_folders(spool: Spool) -> None:
    """Recording folders the database does not know (it was deleted or replaced) are said aloud.

    Nothing removes them; without this they would sit there unseen, audio and all.
    """
    try:
        known = {rec.recording_id for rec in spool.recordings()}
        unlisted = sorted(
            folder.name
            for folder in spool.root.iterdir()
            if folder.is_dir() and folder.name not in known and _holds_audio(folder)
        )
    except (OSError, SpoolError):
        return
    if unlisted:
        print(
            f"warning: {len(unlisted)} recording folder(s) in {spool.root} are not in the spool "
            f"database (was spool.db deleted or replaced?): {', '.join(unlisted[:3])}"
            f"{' …' if len(unlisted) > 3 else ''}. Their files are kept; do not delete them.",
            file=sys.stderr,
        )


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--server URL / --local: which transcription server to talk to (else the settings)."""
    parser.add_argument(
        "--server", type=not_blank, metavar="URL", help="Heidi base URL (overrides settings)"
    )
    parser.add_argument(
        "--local", action="store_true", help="start the local transcription server in-process"
    )


def load_settings(args: argparse.Namespace, *, needs_server: bool) -> Settings:
    """Saved settings with HEIDI_* applied.

    Unusable settings (damaged file, bad HEIDI_* value) are an error (SettingsError, exit USAGE)
    for a command that talks to a server — silently using defaults would send the audio to
    another server (the local one) than the one configured — unless --local was asked for.
    Otherwise they are reported as a warning and defaults are used.
    """
    try:
        settings = effective_settings()
        if needs_server and not getattr(args, "local", False):
            key = os.environ.get(ENV_API_KEY)
            if key:
                validate_api_key(key)
        return settings
    except SettingsError as error:
        problem = str(error).rstrip()
        problem += "" if problem.endswith(".") else "."
        if needs_server and not getattr(args, "local", False):
            raise SettingsError(f"{problem} Fix it, or use --local.") from None
        print(f"warning: {problem} Using defaults.", file=sys.stderr)
        return Settings()


@contextmanager
def connected_client(args: argparse.Namespace, settings: Settings) -> Iterator[HeidiClient]:
    """A client for the server that --server / --local / settings name; closed afterwards."""
    with (
        target_session(
            settings, paths.data_dir(args.data_dir), server_url=args.server, local=args.local
        ) as target,
        target.client() as client,
    ):
        yield client
