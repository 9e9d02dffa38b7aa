"""Pure decisions of the upload queue: what to do next for one recording, given its chunks.

Kept free of I/O so the rules (index order, rejected chunks skipped but
holding back `:finish`, backoff times respected) are easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from recorder.states import ChunkState, RecordingState

CAPTURE_ENDED = frozenset({RecordingState.RECORDED, RecordingState.INTERRUPTED})
SETTLED = frozenset({ChunkState.UPLOADED, ChunkState.REJECTED})


class ChunkView(Protocol):
    """What the planner reads from a spool chunk row."""

    @property
    def index(self) -> int: ...
    @property
    def state(self) -> ChunkState: ...
    @property
    def next_attempt_at(self) -> float | None: ...


class Action(StrEnum):
    UPLOAD = "upload"  # send chunk `index` now
    WAIT = "wait"  # the next chunk is backing off until `at`
    FINISH = "finish"  # every chunk uploaded and capture ended: call :finish
    FINAL = "final"  # :finish done: fetch the final transcript
    BLOCKED = "blocked"  # rejected chunks wait for the user (retry, or finish without them)
    IDLE = "idle"  # nothing to do until a new chunk arrives (or done)


@dataclass(frozen=True)
class Step:
    action: Action
    index: int | None = None
    at: float | None = None


def next_step(
    state: RecordingState,
    chunks: Iterable[ChunkView],
    now: float,
    *,
    skip_rejected: bool = False,
) -> Step:
    """The one next thing to do for a recording (chunks go strictly in index order)."""
    if state is RecordingState.DONE:
        return Step(Action.IDLE)
    if state is RecordingState.FINISHED:
        return Step(Action.FINAL)
    ordered = sorted(chunks, key=lambda c: c.index)
    for chunk in ordered:
        if chunk.state in SETTLED:
            continue
        due = chunk.next_attempt_at if chunk.state is ChunkState.RETRYING else None
        if due is not None and due > now:
            return Step(Action.WAIT, chunk.index, due)
        return Step(Action.UPLOAD, chunk.index)
    if state not in CAPTURE_ENDED:
        # Still RECORDING (or left so by a crash or a full disk, its journal not yet recovered):
        # finishing now could leave audio out of the transcript, even if a finish was requested.
        return Step(Action.IDLE)
    if any(c.state is ChunkState.REJECTED for c in ordered) and not skip_rejected:
        return Step(Action.BLOCKED)
    return Step(Action.FINISH)
