"""`spool`: list the recordings in the spool and the state of each chunk (no patient data shown)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from recorder import exit_codes
from recorder.commands.common import add_data_dir, open_spool
from recorder.commands.gap_report import gap_dict, summary, total_seconds
from recorder.events import AudioGap
from recorder.gaps import interleave, read_gaps
from recorder.spool import ChunkRow, RecordingRow, Spool


def add_parser(subparsers: Any) -> None:
    """Register `spool`."""
    parser = subparsers.add_parser(
        "spool",
        help="list recordings and chunk states in the local spool",
        description="List every recording in the local spool with its state, length and the "
        "upload state of each chunk, and any gaps in its audio (microphone lost): their number "
        "and total length, and each one's marker before the chunk it precedes (--json: "
        "'gaps' lists them, 'gaps_total_s' adds them up; 'earlier_sessions' the sessions a "
        "recording was sent to before the server lost them).",
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the spool's recordings and chunks."""
    spool = open_spool(args)
    try:
        recordings = spool.recordings()
        gaps_of = {rec.recording_id: read_gaps(spool, rec.recording_id) for rec in recordings}
        listing = [_recording_dict(spool, rec, gaps_of[rec.recording_id]) for rec in recordings]
    finally:
        spool.close()
    if args.json:
        print(json.dumps({"data_dir": str(spool.data_dir), "recordings": listing}, indent=2))
    else:
        _print_table(str(spool.data_dir), listing, gaps_of)
    return exit_codes.OK


def _recording_dict(spool: Spool, rec: RecordingRow, gaps: list[AudioGap]) -> dict[str, Any]:
    chunks = spool.chunks(rec.recording_id)
    counts: dict[str, int] = {}
    for chunk in chunks:
        counts[chunk.state.value] = counts.get(chunk.state.value, 0) + 1
    return {
        "recording_id": rec.recording_id,
        "state": rec.state.value,
        "created": _iso(rec.created_at),
        "duration_s": round(rec.duration_s, 3),
        "codec": rec.codec,
        "session_id": rec.session_id,
        "remote_recording_id": rec.remote_recording_id,
        "earlier_sessions": [  # sent there before the server lost them; still name this recording
            {"session_id": sid, "remote_recording_id": remote}
            for sid, remote in spool.earlier_sessions(rec.recording_id)
        ],
        "chunks_total": len(chunks),
        "chunk_counts": counts,
        "chunks": [_chunk_dict(c) for c in chunks],
        "gaps": [gap_dict(g) for g in gaps],
        "gaps_total_s": round(total_seconds(gaps), 3),
        "gaps_summary": summary(gaps) if gaps else "",
    }


def _chunk_dict(chunk: ChunkRow) -> dict[str, Any]:
    return {
        "index": chunk.index,
        "state": chunk.state.value,
        "duration_s": round(chunk.duration_s, 3),
        "size_bytes": chunk.size_bytes,
        "attempts": chunk.attempts,
        "next_attempt_at": None if chunk.next_attempt_at is None else _iso(chunk.next_attempt_at),
        "error": chunk.error,
        "server_status": chunk.server_status,
        "audio_deleted": chunk.audio_deleted_at is not None,
    }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(timestamp))


def _print_table(
    data_dir: str, listing: list[dict[str, Any]], gaps_of: dict[str, list[AudioGap]]
) -> None:
    print(f"Spool: {data_dir}")
    if not listing:
        print("No recordings.")
        return
    for rec in listing:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(rec["chunk_counts"].items()))
        print(
            f"\n{rec['recording_id']}  {rec['state']:<11}  {rec['created']}  "
            f"{rec['duration_s']:8.1f} s  {rec['chunks_total']} chunks"
            + (f" ({counts})" if counts else "")
            + (f"; {rec['gaps_summary']}" if rec["gaps"] else "")
        )
        by_index = {chunk["index"]: chunk for chunk in rec["chunks"]}
        for item in interleave(by_index, gaps_of[rec["recording_id"]]):
            if isinstance(item, AudioGap):  # where the audio is missing, among the chunks
                print(f"  {'':3}  {item.marker()}")
                continue
            chunk = by_index[item]
            extra = []
            if chunk["server_status"]:
                extra.append(f"server {chunk['server_status']}")
            if chunk["attempts"]:
                extra.append(f"{chunk['attempts']} attempts")
            if chunk["next_attempt_at"]:
                extra.append(f"next try {chunk['next_attempt_at']}")
            if chunk["audio_deleted"]:
                extra.append("audio deleted")
            if chunk["error"]:
                extra.append(f"error: {chunk['error']}")
            print(
                f"  {chunk['index']:03d}  {chunk['state']:<9}  {chunk['duration_s']:6.1f} s  "
                f"{chunk['size_bytes'] / 1024:7.1f} KiB  " + "; ".join(extra)
            )
