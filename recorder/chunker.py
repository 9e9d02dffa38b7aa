"""Where to cut audio into chunks: the quietest short window after `min_s`, never after `max_s`.

Cutting in a pause keeps words whole for the transcriber. The chunker holds at most `max_s` of
audio in one preallocated buffer plus a running sum of squares, so each window's energy costs
O(1) and each sample is scanned once per chunk (no O(n²) rescans). Concatenating every chunk it
returns (including `flush()`) gives back exactly the samples it was fed.

Cut rule: once the buffer holds `min_s`, windows of `window_s` (stepped by `hop_s`) whose centre
lies in [min_s, max_s] are scored by RMS. If the quietest so far is below `silence_dbfs`, cut at
its centre right away (low latency); otherwise at `max_s` cut at the centre of the quietest.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

DEFAULT_MIN_S = 45.0
DEFAULT_MAX_S = 60.0
ALLOWED_RANGE_S = (45.0, 60.0)  # what users may choose (the UI and settings enforce it)


def validate_user_bounds(min_s: float, max_s: float) -> None:
    """Check user-chosen chunk lengths: 45 <= min <= max <= 60 seconds."""
    low, high = ALLOWED_RANGE_S
    if not (low <= min_s <= max_s <= high):
        raise ValueError(
            f"chunk length must satisfy {low:g} s <= minimum <= maximum <= {high:g} s "
            f"(got {min_s:g} s and {max_s:g} s)"
        )


class Chunker:
    """Splits a stream of mono float32 PCM into chunks cut at quiet moments."""

    def __init__(
        self,
        sample_rate: int,
        min_s: float = DEFAULT_MIN_S,
        max_s: float = DEFAULT_MAX_S,
        window_s: float = 0.3,
        hop_s: float = 0.05,
        silence_dbfs: float | None = -50.0,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = sample_rate
        self.min_len = max(1, round(min_s * sample_rate))
        self.max_len = round(max_s * sample_rate)
        self.window = max(1, round(window_s * sample_rate))
        self.hop = max(1, round(hop_s * sample_rate))
        if self.max_len < self.min_len:
            raise ValueError("max_s must not be smaller than min_s")
        if self.window > self.min_len:
            raise ValueError("window_s must not be longer than min_s")
        # Mean-square threshold per sample; None disables early cuts.
        self._silence_ms = None if silence_dbfs is None else 10.0 ** (silence_dbfs / 10.0)
        self._buf = np.zeros(self.max_len, dtype=np.float32)
        self._cum = np.zeros(self.max_len + 1, dtype=np.float64)  # _cum[i] = sum(buf[:i]**2)
        self._n = 0
        self._reset_scan()

    @property
    def buffered(self) -> int:
        """Samples held that belong to the chunk in progress."""
        return self._n

    def pending(self) -> npt.NDArray[np.float32]:
        """A copy of the chunk in progress (what a crash right now would need to recover)."""
        return self._buf[: self._n].copy()

    def write(self, pcm: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """Add samples; return the chunks completed by them (usually none, sometimes one)."""
        samples = np.asarray(pcm, dtype=np.float32).reshape(-1)
        chunks: list[npt.NDArray[np.float32]] = []
        pos = 0
        while pos < len(samples):
            take = min(len(samples) - pos, self.max_len - self._n)
            self._append(samples[pos : pos + take])
            pos += take
            chunk = self._maybe_cut()
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def flush(self) -> npt.NDArray[np.float32] | None:
        """The last, possibly short chunk (None when nothing is buffered)."""
        if self._n == 0:
            return None
        return self._cut(self._n)

    def _append(self, block: npt.NDArray[np.float32]) -> None:
        start, end = self._n, self._n + len(block)
        self._buf[start:end] = block
        squares = np.square(block, dtype=np.float64)
        np.cumsum(squares, out=self._cum[start + 1 : end + 1])
        self._cum[start + 1 : end + 1] += self._cum[start]
        self._n = end

    def _reset_scan(self) -> None:
        # Window starts on a grid so that the first window's centre is at min_len.
        self._next_start = self.min_len - self.window // 2
        self._best_start = -1
        self._best_energy = math.inf

    def _scan(self) -> None:
        """Score every not-yet-scanned window that fits in the buffer and is centred <= max_len."""
        last_start = min(self._n - self.window, self.max_len - self.window // 2)
        if last_start < self._next_start:
            return
        starts = np.arange(self._next_start, last_start + 1, self.hop)
        energies = self._cum[starts + self.window] - self._cum[starts]
        best = int(np.argmin(energies))
        if energies[best] < self._best_energy:
            self._best_energy = float(energies[best])
            self._best_start = int(starts[best])
        self._next_start = int(starts[-1]) + self.hop

    def _maybe_cut(self) -> npt.NDArray[np.float32] | None:
        if self._n < self.min_len:
            return None
        self._scan()
        found = self._best_start >= 0
        quiet = (
            found
            and self._silence_ms is not None
            and self._best_energy / self.window < self._silence_ms
        )
        if quiet or self._n >= self.max_len:
            at = self._best_start + self.window // 2 if found else self.max_len
            return self._cut(at)
        return None

    def _cut(self, at: int) -> npt.NDArray[np.float32]:
        chunk = self._buf[:at].copy()
        rest = self._n - at
        self._buf[:rest] = self._buf[at : self._n]
        self._n = 0
        self._cum[0] = 0.0
        if rest:
            self._append(self._buf[:rest].copy())
        self._reset_scan()
        return chunk
