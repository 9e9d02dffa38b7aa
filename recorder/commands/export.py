"""`export`: decrypt one recording's chunks to plain OGG files (000.ogg, 001.ogg, ...).

Audio that was never recorded (the microphone was lost) must not vanish from the exported set:
its gaps are written beside the files (gaps.txt to read, gaps.json for tools) and named on the
terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from recorder import exit_codes
from recorder.atomic_file import write_atomically
from recorder.commands.common import add_data_dir, not_blank, open_spool
from recorder.commands.gap_report import gap_detail, gap_dict, summary, within_chunk
from recorder.errors import DecryptionError, RecorderError, SpoolError
from recorder.events import AudioGap
from recorder.gaps import read_gaps
from recorder.logs import audit
from recorder.spool import ChunkRow, NotFoundError, Spool


def add_parser(subparsers: Any) -> None:
    """Register `export`."""
    parser = subparsers.add_parser(
        "export",
        help="decrypt a recording's chunks to plain .ogg files",
        description="Decrypt every chunk of a recording from the spool into OUT as "
        "<index>.ogg files. The files are NOT encrypted: keep them somewhere safe. If the "
        "microphone was lost during the recording, the gaps are also written to OUT as "
        "gaps.txt (one line per gap: how long, between which files) and gaps.json (the same "
        "as data), and each is named in a warning; with no gaps neither file is written.",
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
    _check_out(out)
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
        gaps = read_gaps(spool, args.recording_id)
    finally:
        spool.close()
    indices = [c.index for c in chunks]
    extra = _gap_files(gaps, args.recording_id, indices)
    _refuse_overwrite(audio, extra, out)
    written = _write_all(audio, extra, out)
    audit(  # plain audio left the spool; the folder is not named (it may name the patient)
        "audio.exported",
        recording=args.recording_id,
        chunks=len(audio),
        unreadable=len(unreadable) or None,
    )
    for path in written:
        print(path)
    skipped = [c.index for c in chunks if c.audio_deleted_at is not None]
    if skipped:
        print(
            f"{len(skipped)} chunk(s) skipped: their audio was deleted after upload "
            f"({', '.join(f'{i:03d}' for i in skipped)}).",
            file=sys.stderr,
        )
    for gap in gaps:
        print(f"warning: {_gap_between(gap, indices)}", file=sys.stderr)
    print(f"{len(audio)} chunk(s) written to {out} (not encrypted).", file=sys.stderr)
    if gaps:
        print(
            f"warning: the audio has {summary(gaps)}: see {out / GAPS_TEXT}.",
            file=sys.stderr,
        )
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


def _check_out(out: Path) -> None:
    """ExportError, before anything is decrypted, if --out is not a folder this user can fill."""
    try:
        exists = out.exists()
        if exists and not out.is_dir():
            raise ExportError(f"--out {out} is a file, not a folder: give a folder to export into.")
    except OSError as error:  # a folder on the way this user may not enter
        raise ExportError(
            f"--out {out} cannot be used ({error.strerror or error}: a folder on the way is "
            "not open to this user): choose a folder you can write to. Nothing was written."
        ) from None
    if exists and not os.access(out, os.W_OK | os.X_OK):
        raise ExportError(
            f"--out {out} is not writable by this user (Permission denied): choose a folder "
            "you can write to. Nothing was written."
        )


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
        except (DecryptionError, NotFoundError, SpoolError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            unreadable.append((chunk.index, reason or type(error).__name__))
    return audio, unreadable


GAPS_TEXT = "gaps.txt"
GAPS_JSON = "gaps.json"


def _target(out: Path, index: int) -> Path:
    return out / f"{index:03d}.ogg"


def _gap_between(gap: AudioGap, indices: list[int]) -> str:
    """A gap named by the exported files it falls between (`indices`: the recording's chunks)."""
    before = [i for i in indices if i < gap.before_chunk]
    after = [i for i in indices if i >= gap.before_chunk]
    inside = within_chunk(gap)
    if inside is not None:  # audio dropped while capturing: missing from that file
        where = f"inside {inside:03d}.ogg"
    elif before and after:
        where = f"between {before[-1]:03d}.ogg and {after[0]:03d}.ogg"
    elif after:
        where = f"before {after[0]:03d}.ogg"
    elif before:
        where = f"after {before[-1]:03d}.ogg, where the recording ended without the microphone"
    else:
        where = "(no audio was recorded)"
    return f"{gap.marker()} {where} ({gap_detail(gap)})"


def _gap_files(gaps: list[AudioGap], recording_id: str, indices: list[int]) -> dict[str, bytes]:
    """gaps.txt and gaps.json for the export folder; none when the recording has no gaps."""
    if not gaps:
        return {}
    lines = [
        f"Recording {recording_id}: {summary(gaps)}.",
        "The exported .ogg files hold the audio around each gap, not the missing audio.",
        "",
        *(_gap_between(gap, indices) for gap in gaps),
    ]
    data = {"recording_id": recording_id, "gaps": [gap_dict(g) for g in gaps]}
    return {
        GAPS_TEXT: ("\n".join(lines) + "\n").encode("utf-8"),
        GAPS_JSON: (json.dumps(data, indent=2) + "\n").encode("utf-8"),
    }


def _refuse_overwrite(audio: dict[int, bytes], extra: dict[str, bytes], out: Path) -> None:
    """ExportError if a file the export would write already exists with other content."""
    planned = [(_target(out, i), data) for i, data in audio.items()]
    planned += [(out / name, data) for name, data in extra.items()]
    for target, data in planned:
        if target.exists() and (target.is_dir() or target.read_bytes() != data):
            raise ExportError(
                f"{target} already exists and holds something else (another export?): "
                "export into an empty folder. Nothing was written."
            )


def _write_all(audio: dict[int, bytes], extra: dict[str, bytes], out: Path) -> list[Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(
            f"Cannot create the export folder {out} ({error.strerror}): choose another --out."
        ) from None
    planned = [(_target(out, i), data) for i, data in sorted(audio.items())]
    planned += [(out / name, data) for name, data in extra.items()]
    written: list[Path] = []
    for target, data in planned:
        try:
            write_atomically(target, data)
        except OSError as error:
            raise SpoolError(
                f"Cannot write {target} ({error.strerror}); {len(written)} file(s) were written "
                "before it. Free space or choose another --out."
            ) from None
        written.append(target)
    return written
