"""The input level meter: peak and RMS of what the producer delivered since the last look."""

from __future__ import annotations

import math

import numpy as np

from recorder.audio.ring import Frames

SILENCE_DBFS = -120.0


class LevelMeter:
    """Updated by the producer (cheap scalar reductions, no buffer allocated), read by anyone.

    A reading races an update at worst by one block, which a meter can afford; no lock is
    taken so the audio callback can never wait on the UI.
    """

    def __init__(self) -> None:
        self._peak = 0.0
        self._sumsq = 0.0
        self._count = 0
        self.max_peak = 0.0  # since the start

    def update(self, block: Frames) -> None:
        """Producer side: fold one block (frames × channels) into the running figures."""
        if block.size == 0:
            return
        peak = max(float(block.max()), -float(block.min()))
        if peak > self._peak:
            self._peak = peak
        if peak > self.max_peak:
            self.max_peak = peak
        self._sumsq += float(np.vdot(block, block))
        self._count += int(block.size)

    def take(self) -> tuple[float, float]:
        """(peak 0..1, RMS in dBFS) since the previous call; silence reads as SILENCE_DBFS."""
        peak, sumsq, count = self._peak, self._sumsq, self._count
        self._peak, self._sumsq, self._count = 0.0, 0.0, 0
        return min(peak, 1.0), rms_dbfs(sumsq, count)


def rms_dbfs(sumsq: float, count: int) -> float:
    """RMS level in dB relative to full scale (1.0), floored at SILENCE_DBFS."""
    if count <= 0 or sumsq <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * math.log10(sumsq / count))
