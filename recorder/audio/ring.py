"""A preallocated single-producer / single-consumer ring of audio frames.

The producer is the PortAudio callback (or the file feeder thread), so `write` allocates no
buffer, takes no lock and never blocks: when the ring is full the new frames are dropped and
counted, never silently. Positions are ever-growing counters; each is written by one side only,
and CPython's GIL makes the publication of a new counter value atomic, so no lock is needed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Frames = npt.NDArray[np.float32]


class RingBuffer:
    """`capacity` frames of `channels` float32 samples."""

    def __init__(self, capacity: int, channels: int) -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError("a ring needs a positive capacity and channel count")
        self._buf: Frames = np.zeros((capacity, channels), dtype=np.float32)
        self._capacity = capacity
        self._written = 0  # producer-owned
        self._read = 0  # consumer-owned
        self.dropped_frames = 0  # producer-owned: frames lost because the ring was full
        self.overruns = 0  # producer-owned: writes that lost frames

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def channels(self) -> int:
        return int(self._buf.shape[1])

    @property
    def total_written(self) -> int:
        """Frames accepted since creation (dropped frames excluded)."""
        return self._written

    def available(self) -> int:
        """Frames waiting to be read."""
        return self._written - self._read

    def free(self) -> int:
        """Frames that can be written without dropping any."""
        return self._capacity - (self._written - self._read)

    def write(self, block: Frames) -> int:
        """Producer side: copy `block` (frames × channels) in; return how many frames were kept."""
        frames = int(block.shape[0])
        kept = min(frames, self._capacity - (self._written - self._read))
        if kept < frames:
            self.dropped_frames += frames - kept
            self.overruns += 1
        if kept > 0:
            start = self._written % self._capacity
            first = min(kept, self._capacity - start)
            self._buf[start : start + first] = block[:first]
            if kept > first:
                self._buf[: kept - first] = block[first:kept]
            self._written += kept
        return kept

    def read(self, max_frames: int | None = None) -> Frames:
        """Consumer side: a copy of the waiting frames (at most `max_frames`), oldest first."""
        count = self._written - self._read
        if max_frames is not None:
            count = min(count, max_frames)
        out: Frames = np.empty((count, self._buf.shape[1]), dtype=np.float32)
        if count > 0:
            start = self._read % self._capacity
            first = min(count, self._capacity - start)
            out[:first] = self._buf[start : start + first]
            if count > first:
                out[first:] = self._buf[: count - first]
            self._read += count
        return out
