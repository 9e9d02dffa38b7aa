"""`export`: decrypt one recording's chunks to plain OGG files (000.ogg, 001.ogg, ...)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from recorder import exit_codes
from recorder.commands.common import add_data_dir, open_spool
from recorder.errors import RecorderError
from recorder.spool import ChunkRow, NotFoundError, Spool


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
    """Export the chunks; an unknown id, a bad --out or an undecryptable file is a clear error.

    Files already in --out are never overwritten with different audio (an earlier export may be
    the only copy left once the spool's audio was deleted after upload).
    """
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file, not a folder: give a folder to export into.")
    spool = open_spool(args)
    try:
        try:
            chunks = spool.chunks(args.recording_id)
        except NotFoundError:
            raise UnknownRecordingError(
                f"No recording with id {args.recording_id!r} in the spool {spool.data_dir}: "
                "`ambient-recorder spool` lists the ids."
            ) from None
        _refuse_overwrite(spool, args.recording_id, chunks, out)
        written = spool.export(args.recording_id, out)
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
    print(f"{len(written)} chunk(s) written to {out} (not encrypted).", file=sys.stderr)
    return exit_codes.OK


class ExportError(RecorderError):
    """--out cannot be used; nothing was written."""

    exit_code = exit_codes.USAGE


class UnknownRecordingError(NotFoundError):
    """The recording id given is not in the spool (a typo, or another data folder)."""

    exit_code = exit_codes.USAGE


def _refuse_overwrite(spool: Spool, recording_id: str, chunks: list[ChunkRow], out: Path) -> None:
    """ExportError if a file the export would write already exists with other content."""
    for chunk in chunks:
        target = out / f"{chunk.index:03d}.ogg"
        if chunk.audio_deleted_at is not None or not target.exists():
            continue
        if target.is_dir() or target.read_bytes() != spool.read_chunk_audio(
            recording_id, chunk.index
        ):
            raise ExportError(
                f"{target} already exists and holds something else (another export?): "
                "export into an empty folder. Nothing was written."
            )
