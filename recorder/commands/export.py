"""`export`: decrypt one recording's chunks to plain OGG files (000.ogg, 001.ogg, ...)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from recorder import exit_codes
from recorder.atomic_file import write_atomically
from recorder.commands.common import add_data_dir, not_blank, open_spool
from recorder.errors import DecryptionError, RecorderError, SpoolError
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
    parser.add_argument(
        "--out", type=not_blank, required=True, metavar="DIR", help="folder to write into"
    )
    add_data_dir(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export the chunks; an unknown id, a bad --out or an undecryptable file is a clear error.

    Files already in --out are never overwritten with different audio (an earlier export may be
    the only copy left once the spool's audio was deleted after upload). A damaged or missing
    chunk does not stop the others from being exported: it is named, and the exit code says so.
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
        audio, unreadable = _read_all(spool, args.recording_id, chunks)
    finally:
        spool.close()
    _refuse_overwrite(audio, out)
    written = _write_all(audio, out)
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
    if unreadable:
        others = [f"{i:03d}" for i, _ in unreadable[1:]]
        raise SpoolError(
            f"{len(unreadable)} chunk(s) could not be exported: {unreadable[0][1]}"
            + (f"; also {', '.join(others)}" if others else "")
            + ". Their files are left in the spool untouched; the other chunks were written."
        )
    return exit_codes.OK


class ExportError(RecorderError):
    """--out cannot be used; nothing was written."""

    exit_code = exit_codes.USAGE


class UnknownRecordingError(NotFoundError):
    """The recording id given is not in the spool (a typo, or another data folder)."""

    exit_code = exit_codes.USAGE


def _read_all(
    spool: Spool, recording_id: str, chunks: list[ChunkRow]
) -> tuple[dict[int, bytes], list[tuple[int, str]]]:
    """Decrypted OGG bytes of every chunk that has audio, and (index, why) for the unreadable."""
    audio: dict[int, bytes] = {}
    unreadable: list[tuple[int, str]] = []
    for chunk in chunks:
        if chunk.audio_deleted_at is not None:
            continue
        try:
            audio[chunk.index] = spool.read_chunk_audio(recording_id, chunk.index)
        except (DecryptionError, NotFoundError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            unreadable.append((chunk.index, reason or type(error).__name__))
    return audio, unreadable


def _target(out: Path, index: int) -> Path:
    return out / f"{index:03d}.ogg"


def _refuse_overwrite(audio: dict[int, bytes], out: Path) -> None:
    """ExportError if a file the export would write already exists with other content."""
    for index, data in audio.items():
        target = _target(out, index)
        if target.exists() and (target.is_dir() or target.read_bytes() != data):
            raise ExportError(
                f"{target} already exists and holds something else (another export?): "
                "export into an empty folder. Nothing was written."
            )


def _write_all(audio: dict[int, bytes], out: Path) -> list[Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(
            f"Cannot create the export folder {out} ({error.strerror}): choose another --out."
        ) from None
    written: list[Path] = []
    for index, data in sorted(audio.items()):
        target = _target(out, index)
        try:
            write_atomically(target, data)
        except OSError as error:
            raise SpoolError(
                f"Cannot write {target} ({error.strerror}); {len(written)} chunk(s) were written "
                "before it. Free space or choose another --out."
            ) from None
        written.append(target)
    return written
