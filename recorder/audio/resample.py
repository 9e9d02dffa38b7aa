"""Device frames → float32 mono at the target rate: mixdown, then streaming soxr resampling.

Runs in the reader thread, never in the audio callback.
"""

from __future__ import annotations

import numpy as np
import soxr

from recorder.audio.ring import Frames

Mono = Frames  # 1-D float32


class MonoResampler:
    """Streaming converter: keeps soxr's filter state between blocks so there are no seams."""

    def __init__(self, in_rate: int, channels: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.channels = channels
        self.out_rate = out_rate
        self._stream = (
            soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")
            if in_rate != out_rate
            else None
        )
        self._flushed = False

    def process(self, frames: Frames, last: bool = False) -> Mono:
        """Convert one block (frames × channels); `last` flushes the resampler's tail once."""
        if frames.shape[0] == 0 and not last:
            return np.zeros(0, dtype=np.float32)
        if frames.shape[1] == 1:
            mono = np.ascontiguousarray(frames[:, 0], dtype=np.float32)
        else:
            mono = frames.mean(axis=1, dtype=np.float32)
        if self._stream is None or self._flushed:
            return mono
        out = self._stream.resample_chunk(mono, last=last)
        if last:
            self._flushed = True
        return np.ascontiguousarray(out, dtype=np.float32)
