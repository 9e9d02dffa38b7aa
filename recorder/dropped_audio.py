"""Where audio the capture lost (recorder.audio.losses) falls in the recording, as a gap.

A capture measures a loss in its own delivered audio ("0.4 s missing after 12.3 s of this
input"); the recording is something else: pause drops audio, the duration limit cuts it, a
reopened microphone starts a new capture. `DeliveryMap` remembers where each stretch of a
capture's delivered audio went in the recording, so a loss reported seconds later is placed
exactly, and one that fell inside a pause (nothing of it would have been recorded) is told
apart. `place_in_chunks` then says which chunk holds it: a loss within `BOUNDARY_S` of a cut
sits between two chunks; otherwise it is inside a chunk and its marker follows that chunk.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from recorder.audio.losses import RING_FULL

BOUNDARY_S = 0.15  # losses are placed within ~0.1 s: this close to a cut, it is "between"
PAUSE_MARGIN_S = 0.25  # a loss this far inside a pause lost nothing the recording would keep


@dataclass(frozen=True)
class _Span:
    start: int  # capture frames delivered before it
    end: int
    recorded_from: int  # the recording frame its first frame became (or would have, if dropped)
    written: bool


class DeliveryMap:
    """Capture frame → recording frame, for one capture (frames at the recording's rate)."""

    def __init__(self) -> None:
        self._spans: list[_Span] = []
        self.delivered = 0

    def add(self, frames: int, recorded_from: int, written: int) -> None:
        """`frames` more were delivered; the first `written` became recording frames from
        `recorded_from` on, the rest were dropped (paused, or past the duration limit)."""
        written = max(0, min(written, frames))
        if written:
            self._extend(written, recorded_from, True)
        if frames > written:
            self._extend(frames - written, recorded_from + written, False)

    def place(self, frame: int) -> int:
        """The recording frame at capture frame `frame` (clamped to what was delivered).

        In a dropped stretch that is where recording resumed after it (or would have).
        """
        if not self._spans:
            return 0
        span = self._span_at(frame)
        if not span.written:
            return span.recorded_from
        return span.recorded_from + min(max(frame - span.start, 0), span.end - span.start)

    def recorded_near(self, frame: int, margin: int) -> bool:
        """True if any frame within `margin` of `frame` went into the recording."""
        low, high = frame - margin, frame + margin
        return any(s.written and s.start < high and s.end > low for s in self._spans)

    def _span_at(self, frame: int) -> _Span:
        starts = [s.start for s in self._spans]
        return self._spans[max(bisect_right(starts, frame) - 1, 0)]

    def _extend(self, frames: int, recorded_from: int, written: bool) -> None:
        last = self._spans[-1] if self._spans else None
        start = self.delivered
        self.delivered += frames
        if (
            last is not None
            and last.written == written
            and (not written or last.recorded_from + (last.end - last.start) == recorded_from)
        ):
            self._spans[-1] = _Span(last.start, self.delivered, last.recorded_from, written)
        else:
            self._spans.append(_Span(start, self.delivered, recorded_from, written))


def place_in_chunks(frame: int, chunk_starts: Sequence[int], rate: int) -> tuple[int, int | None]:
    """(before_chunk, within_chunk) of recording frame `frame`.

    `chunk_starts` are the first frames of the chunks known so far, the chunk in progress last.
    Near a cut the loss is between chunks (within None); otherwise inside the chunk that holds
    it, and its marker goes right after that chunk.
    """
    near = round(BOUNDARY_S * rate)
    for index, start in enumerate(chunk_starts):
        if abs(frame - start) <= near:
            return index, None
    index = max(bisect_right(list(chunk_starts), frame) - 1, 0)
    return index + 1, index


def loss_reason(cause: str) -> str:
    """Why the audio is missing, in a clinician's words."""
    if cause == RING_FULL:
        return "dropped because the recorder fell behind"
    return "dropped because the computer was too busy"
