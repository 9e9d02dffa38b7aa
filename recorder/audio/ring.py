"""A preallocated single-producer / single-consumer ring of audio frames.

The producer is the PortAudio callback (or the file feeder thread), so `write` allocates no
buffer, takes no lock and never blocks: when the ring is full the new frames are dropped and
counted, never silently, and journalled (where, how many) so the loss can be placed in the
recording. Positions are ever-growing counters; each is written by one side only,
and CPython's GIL makes the publication of a new counter value atomic, so no lock is needed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Frames = npt.NDArray[np.float32]

DROP_JOURNAL_SLOTS = 1024  # overrunning writes remembered between two take_drops() calls


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
        # (position, dropped_frames after it) of each overrunning write, preallocated
        self._drops = np.zeros((DROP_JOURNAL_SLOTS, 2), dtype=np.int64)
        self._drops_taken = 0  # consumer-owned
        self._dropped_taken = 0  # consumer-owned: dropped frames already taken

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
        if kept > 0:
            start = self._written % self._capacity
            first = min(kept, self._capacity - start)
            self._buf[start : start + first] = block[:first]
            if kept > first:
                self._buf[: kept - first] = block[first:kept]
            self._written += kept
        if kept < frames:
            slot = self.overruns % DROP_JOURNAL_SLOTS
            self.dropped_frames += frames - kept
            self._drops[slot, 0] = self._written
            self._drops[slot, 1] = self.dropped_frames  # cumulative: a lapped reader still counts
            self.overruns += 1  # published last: the journal slot is complete
        return kept

    def take_drops(self) -> list[tuple[int, int]]:
        """Consumer side: (position, frames) lost since the last call, merged per position.

        `position` is `total_written` when the frames were lost: they belong right after that
        many kept frames. Drops while the ring stays full share a position and are merged.
        If the journal was lapped (the reader stalled for very long), the frames it no longer
        holds are added to the oldest entry it still has: counted, if not exactly placed.
        """
        overruns = self.overruns
        first = max(self._drops_taken, overruns - DROP_JOURNAL_SLOTS)
        before = self._dropped_taken
        merged: list[tuple[int, int]] = []
        for index in range(first, overruns):
            slot = index % DROP_JOURNAL_SLOTS
            position, total = int(self._drops[slot, 0]), int(self._drops[slot, 1])
            count, before = total - before, total
            if merged and merged[-1][0] == position:
                merged[-1] = (position, merged[-1][1] + count)
            else:
                merged.append((position, count))
        self._drops_taken = overruns
        self._dropped_taken = before
        return merged

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
