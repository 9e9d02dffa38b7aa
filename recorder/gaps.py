"""The gaps of a recording (input lost, audio dropped), kept beside its chunks in the spool.

A gap must stay visible after the session ends: the transcript and export show
"[no audio for N s: microphone lost]" or "[about 1.7 s of audio missing in the passage
above, …]" where it fell. Gaps are few, small and hold no patient
data (times and a reason), so they live in `gaps.json` in the recording's folder, replaced
atomically on each change; a missing or unreadable file reads as "no gaps recorded".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recorder.atomic_file import write_atomically
from recorder.events import INPUT_LOST, AudioGap

if TYPE_CHECKING:
    from recorder.spool import Spool

log = logging.getLogger(__name__)

GAPS_NAME = "gaps.json"


def gaps_path(spool: Spool, recording_id: str) -> Path:
    """Where a recording's gaps are kept."""
    return spool.root / recording_id / GAPS_NAME


def read_gaps(spool: Spool, recording_id: str) -> list[AudioGap]:
    """The gaps recorded for a recording, in order ([] when none)."""
    path = gaps_path(spool, recording_id)
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        return [_gap(item) for item in raw]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError, KeyError) as error:
        log.warning("recording %s: gaps file unreadable (%s)", recording_id, error)
        return []


def save_gap(spool: Spool, gap: AudioGap) -> None:
    """Add a gap, or update it if it is already kept (the same start): its duration grows.

    The session saves a gap as soon as the input is lost and updates it while waiting, so a
    crash meanwhile still leaves the gap marked (a few seconds short at most). OSError if the
    disk refuses; the caller reports it, the audio is unaffected.
    """
    kept = read_gaps(spool, gap.recording_id)
    gaps = [g for g in kept if not _same(g, gap)] + [gap]
    gaps.sort(key=lambda g: g.started_at)
    data = json.dumps([asdict(g) for g in gaps], indent=1).encode("utf-8")
    write_atomically(gaps_path(spool, gap.recording_id), data, mode=0o600)


def gaps_before(gaps: list[AudioGap], index: int) -> list[AudioGap]:
    """The gaps that fall just before chunk `index` (usually none, at most a few)."""
    return [g for g in gaps if g.before_chunk == index]


def interleave(indices: Iterable[int], gaps: Sequence[AudioGap]) -> list[int | AudioGap]:
    """Chunk indices in order, each gap just before the chunk it precedes.

    A gap with no chunk after it (the recording ended while the input was away) comes last.
    The one place that decides where a gap goes: the app's transcript uses it, and so should
    any other transcript or export (text_with_gaps).
    """
    ordered = sorted(gaps, key=lambda g: (g.before_chunk, g.started_at))
    out: list[int | AudioGap] = []
    for index in sorted(set(indices)):
        while ordered and ordered[0].before_chunk <= index:
            out.append(ordered.pop(0))
        out.append(index)
    out.extend(ordered)
    return out


def text_with_gaps(texts: Mapping[int, str], gaps: Sequence[AudioGap]) -> str:
    """A transcript from each chunk's text (by index) with every gap's marker where it fell.

    Paragraphs are separated by a blank line, as the app shows and exports them; a chunk
    with no text adds nothing (the caller puts a placeholder in `texts` if it wants one).
    """
    parts = [
        item.marker() if isinstance(item, AudioGap) else texts[item].strip()
        for item in interleave(texts, gaps)
    ]
    return "\n\n".join(part for part in parts if part)


def _same(a: AudioGap, b: AudioGap) -> bool:
    return a.before_chunk == b.before_chunk and a.started_at == b.started_at


def _gap(item: dict[str, Any]) -> AudioGap:
    return AudioGap(
        recording_id=str(item["recording_id"]),
        before_chunk=int(item["before_chunk"]),
        at_s=float(item["at_s"]),
        started_at=float(item["started_at"]),
        duration_s=float(item["duration_s"]),
        reason=str(item["reason"]),
        within_chunk=None if item.get("within_chunk") is None else int(item["within_chunk"]),
        cause=str(item.get("cause", INPUT_LOST)),  # files written before losses were kept
    )
