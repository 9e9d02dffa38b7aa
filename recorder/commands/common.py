"""Options and helpers shared by several commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from recorder import paths
from recorder.errors import SpoolError
from recorder.heidi.client import HeidiClient
from recorder.settings import Settings, SettingsError, effective_settings
from recorder.spool import Spool
from recorder.uplink import target_session


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
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
    return spool


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--server URL / --local: which transcription server to talk to (else the settings)."""
    parser.add_argument("--server", metavar="URL", help="Heidi base URL (overrides settings)")
    parser.add_argument(
        "--local", action="store_true", help="start the local transcription server in-process"
    )


def load_settings_or_defaults() -> Settings:
    """Saved settings with HEIDI_* applied; unusable settings are reported and defaults used."""
    try:
        return effective_settings()
    except SettingsError as error:
        print(f"warning: {error} Using defaults.", file=sys.stderr)
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
