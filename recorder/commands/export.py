"""`export`: decrypt one recording's chunks to plain OGG files (000.ogg, 001.ogg, ...)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from recorder import exit_codes
from recorder.commands.common import add_data_dir, open_spool


def add_parser(subparsers: Any) -> None:
    """Register `export`."""
    parser = subparsers.add_parser(
        "export",
        help="decrypt a recording's chunks to plain .ogg files",
        description="Decrypt every chunk of a recording from the spool into OUT as "
        "<index>.ogg files. The files are NOT encrypted: keep them somewhere safe.",
    )
    parser.add_argument("recording_id", metavar="RECORDING_ID", help="see `spool` for the ids")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    add_data_dir(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export the chunks; an unknown id or an undecryptable file is a clear error."""
    spool = open_spool(args)
    try:
        chunks = spool.chunks(args.recording_id)
        written = spool.export(args.recording_id, args.out)
    finally:
        spool.close()
    for path in written:
        print(path)
    skipped = [c.index for c in chunks if c.audio_deleted_at is not None]
    if skipped:
        print(
            f"{len(skipped)} chunk(s) skipped: their audio was deleted after upload "
            f"({', '.join(f'{i:03d}' for i in skipped)}).",
            file=sys.stderr,
        )
    print(f"{len(written)} chunk(s) written to {args.out} (not encrypted).", file=sys.stderr)
    return exit_codes.OK
