"""Cutting a stream of samples into windows that Whisper transcribes one at a time.

A whole-file upload can be hours long; decoded and transcribed in one piece it took the
server ~3 GiB more per hour of audio (tests/bench/test_server_bench.py). Windows of 45-60 s
keep memory flat. Each cut is made at the quietest half second of its search range (a
pause between words or speakers), as the recorder cuts its live chunks, and never with an
overlap, so no word is transcribed twice. A cut in the middle of a word (audio without
any pause for 15 s) would garble that word, as it would between two live chunks.
Audio of up to WINDOW_MAX_S is one window: a live chunk is transcribed whole, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

from server.audio import SAMPLE_RATE

WINDOW_MIN_S = 45.0  # a cut is searched between these two points of the buffered audio
WINDOW_MAX_S = 60.0
LAST_MIN_S = 15.0  # the last two windows are shared so that neither is shorter than this
QUIET_S = 0.5  # the quiet moment looked for: the half second of least energy (a pause)
_FRAME = SAMPLE_RATE // 100  # energy is summed over 10 ms frames


def quietest_point(samples: NDArray[np.float32], lo: int, hi: int) -> int:
    """The sample index, between lo and hi, in the middle of the quietest QUIET_S."""
    if not 0 <= lo < hi <= len(samples):
        raise ValueError(f"no room to cut between {lo} and {hi} of {len(samples)} samples")
    span = round(QUIET_S * 100)  # frames per quiet window
    first, last = lo // _FRAME, hi // _FRAME  # window centres are searched in [first, last)
    start = max(0, first - span // 2)
    stop = min(len(samples) // _FRAME, last + span - span // 2)
    frames = samples[start * _FRAME : stop * _FRAME].astype(np.float64).reshape(-1, _FRAME)
    energy = np.concatenate(([0.0], np.cumsum((frames**2).sum(axis=1))))
    sums = energy[span:] - energy[:-span]  # sums[i]: frames start+i .. start+i+span-1
    centres = np.arange(len(sums)) + start + span // 2
    allowed = (centres >= first) & (centres < last)
    best = int(np.argmin(np.where(allowed, sums, np.inf)))
    # In a longer pause (digital silence is all ties), cut in its middle, not at its start.
    quiet = allowed & (sums <= sums[best] * 1.5 + 1e-6)
    first_quiet, last_quiet = best, best
    while first_quiet > 0 and quiet[first_quiet - 1]:
        first_quiet -= 1
    while last_quiet + 1 < len(quiet) and quiet[last_quiet + 1]:
        last_quiet += 1
    return int(centres[(first_quiet + last_quiet) // 2]) * _FRAME


def windows(blocks: Iterable[NDArray[np.float32]]) -> Iterator[NDArray[np.float32]]:
    """Regroup decoded blocks into consecutive windows; together they hold every sample once.

    A window is cut only once WINDOW_MAX_S + WINDOW_MIN_S are buffered, so what remains is
    never a sliver; at the end, audio longer than WINDOW_MAX_S is split in two.
    """
    rate = SAMPLE_RATE
    lo, hi = int(WINDOW_MIN_S * rate), int(WINDOW_MAX_S * rate)
    buffer = np.zeros(0, dtype=np.float32)
    for block in blocks:
        buffer = np.concatenate((buffer, block))
        while len(buffer) >= lo + hi:
            cut = quietest_point(buffer, lo, hi)
            yield buffer[:cut]
            buffer = buffer[cut:].copy()
    if len(buffer) > hi:
        last_min = int(LAST_MIN_S * rate)
        cut = quietest_point(
            buffer, max(len(buffer) - hi, last_min), min(hi, len(buffer) - last_min)
        )
        yield buffer[:cut]
        buffer = buffer[cut:]
    if len(buffer):
        yield buffer
