"""How the command line shows a recording's gaps (microphone lost): in text, as data, in a file.

A transcript that silently misses a minute is the worst failure of this product, so wherever
the CLI prints a transcript of a recording from our spool, each gap's marker stands where it
fell, placed by `recorder.gaps.interleave` (the same order and paragraphs as the app).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from recorder.events import AudioGap, TranscriptChunk, describe_seconds
from recorder.gaps import interleave, text_with_gaps
from recorder.states import ServerStatus


def within_chunk(gap: AudioGap) -> int | None:
    """The chunk a gap falls inside (audio dropped while capturing), None when between chunks.

    Read with getattr: the field is newer than the lost-microphone gaps this module was
    written for, and those never fall inside a chunk.
    """
    value = getattr(gap, "within_chunk", None)
    return value if isinstance(value, int) else None


def gap_dict(gap: AudioGap) -> dict[str, Any]:
    """A gap as JSON data: where it falls, when it started, how long, why, and its marker."""
    return {
        "before_chunk": gap.before_chunk,
        "within_chunk": within_chunk(gap),
        "cause": getattr(gap, "cause", "input_lost"),
        "at_s": round(gap.at_s, 3),
        "started_at": gap.started_at,
        "started": iso_time(gap.started_at),
        "duration_s": round(gap.duration_s, 3),
        "reason": gap.reason,
        "marker": gap.marker(),
    }


def iso_time(timestamp: float) -> str:
    """Local time with its offset, as `spool` shows times."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(timestamp))


def gap_detail(gap: AudioGap) -> str:
    """Where a gap falls in the audio and when it started (without its marker)."""
    return f"after {gap.at_s:.1f} s of audio; started {iso_time(gap.started_at)}"


def gap_line(gap: AudioGap) -> str:
    """One line naming a gap: its marker, where it falls and when it started."""
    inside = within_chunk(gap)
    where = f"in chunk {inside}" if inside is not None else f"before chunk {gap.before_chunk}"
    return f"{gap.marker()} {where} ({gap_detail(gap)})"


def warn_gaps(recording_id: str, gaps: Sequence[AudioGap]) -> None:
    """One warning line per gap on stderr, for when no transcript shows them."""
    for gap in gaps:
        print(f"warning: recording {recording_id}: {gap_line(gap)}", file=sys.stderr, flush=True)


def total_seconds(gaps: Sequence[AudioGap]) -> float:
    return sum(g.duration_s for g in gaps)


def summary(gaps: Sequence[AudioGap]) -> str:
    """`2 gaps, 1 min 5 s without audio (microphone lost)` (for one-line listings)."""
    count = f"{len(gaps)} gap" + ("" if len(gaps) == 1 else "s")
    reasons = ", ".join(sorted({g.reason for g in gaps}))
    return f"{count}, {describe_seconds(total_seconds(gaps))} without audio ({reasons})"


def placeholder(chunk: TranscriptChunk | None, index: int) -> str:
    """What stands in for a chunk with no text, so the paragraphs keep every chunk's place."""
    if chunk is None:
        return f"[chunk {index}: not transcribed by the server]"
    if chunk.status is ServerStatus.FAILED:
        return f"[chunk {index}: transcription failed]"
    return f"[chunk {index}: transcribing…]"


def transcript_text(
    whole: str,
    chunks: Sequence[TranscriptChunk],
    gaps: Sequence[AudioGap],
    local_indices: Iterable[int] = (),
) -> str:
    """The transcript to print: the server's text, with every gap's marker where it fell.

    With no gaps this is the server's text unchanged. With gaps it is the chunks' texts as
    paragraphs with the markers between (recorder.gaps.text_with_gaps, as the app shows it);
    a chunk without text (failed, pending, or known only here: `local_indices`) keeps its
    place with a placeholder. If the server listed no chunks, the markers follow its text,
    as the app does.
    """
    if not gaps:
        return whole.strip()
    by_index = {c.index: c for c in chunks}
    if not by_index:
        return "\n\n".join(p for p in [whole.strip(), *(g.marker() for g in gaps)] if p)
    texts: dict[int, str] = {}
    for index in sorted(set(by_index) | set(local_indices)):
        chunk = by_index.get(index)
        if chunk is not None and chunk.status is ServerStatus.READY:
            texts[index] = chunk.text.strip()
        else:
            texts[index] = placeholder(chunk, index)
    return text_with_gaps(texts, gaps)


def chunk_lines(chunks: Sequence[TranscriptChunk], gaps: Sequence[AudioGap]) -> list[str]:
    """The live view, `[index] STATUS  text` per chunk, with each gap's marker in its place."""
    by_index = {c.index: c for c in chunks}
    lines = []
    for item in interleave(by_index, gaps):
        if isinstance(item, AudioGap):
            lines.append(item.marker())
            continue
        chunk = by_index[item]
        text = f"  {chunk.text.strip()}" if chunk.text.strip() else ""
        lines.append(f"[{chunk.index}] {chunk.status.value}{text}")
    return lines
