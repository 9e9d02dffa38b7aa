"""Audio lost on the way in: where in the capture it happened and about how much.

Losing audio is the worst failure of a recorder, and the transcript must not silently skip it,
so every loss becomes an `AudioLoss` the session can turn into a gap. Three ways lose audio:

- ring_full: our own ring was full (the reader fell behind); exact, from the ring's journal.
- input_overflow: PortAudio flagged `input_overflow` (an ALSA / WASAPI / CoreAudio overrun).
- input_timing: the sound system dropped audio before PortAudio saw it, with no flag at all.
  PulseAudio (and PipeWire's pulse server) does this: a client that is not scheduled for a
  while gets its stream buffered up to 4 MiB, then the newest audio is thrown away. Only the
  callback's clock shows it: `inputBufferAdcTime` runs ahead of the frames received.

`TimingLossDetector` estimates the last two from the callback's timestamps, on the reader's
thread (the callback only journals them). Measured with PulseAudio (tests/integration/
test_capture_overflow.py): after a stall the buffered backlog arrives in a burst of callbacks
(the first one after the stall, then no time between them) whose ADC times are off by up to
~0.1 s, then the cut, then paced callbacks whose ADC time settles onto the truth over a second
or two. So callbacks of a catch-up burst are not judged, a loss is placed where paced delivery
resumes, and it is reported once its size has stopped growing. The ADC clock alone also jumps
without any loss (a null sink waking from idle moved it 214 ms), so a loss must also show in
the callbacks' arrival times: lost audio leaves them behind the wall clock for good.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

RING_FULL = "ring_full"
INPUT_OVERFLOW = "input_overflow"
INPUT_TIMING = "input_timing"

LOSS_THRESHOLD_S = 0.08  # timestamps running ahead by more than this: audio was lost
SETTLE_S = 1.0  # a loss is measured once the clock has stopped running ahead for this long
WARMUP_S = 0.5  # a stream's latency estimate jumps while it starts; measure from here on
FOLLOW_S_PER_S = 0.005  # slow creep of the latency estimate (clock drift) is not a loss
_RISE_S = 0.005  # the clock still runs ahead if it moved more than this
_SMOOTH = 5  # median of this many callbacks: one late or early timestamp is not a loss
_BURST = 0.5  # a callback this soon (x the previous block) after the last one is catching up
_STALL = 3.0  # ... and one this late follows a stall: it is the first of a backlog
_ARRIVALS = 1200  # callbacks kept for placing a loss (a minute of 50 ms blocks)
_PACED_S = 0.1  # the backlog ends near the lowest arrival debt (within two blocks) ...


@dataclass(frozen=True)
class AudioLoss:
    """`lost_s` seconds of input missing after `at_s` seconds of this capture's audio.

    `at_s` counts the audio the capture delivered (device frames / device rate, the same
    seconds `read()` returns at the target rate). `lost_s` is exact for ring_full. For the
    others both are estimates. Through PulseAudio the size is measured within 40 ms (on the
    low side: the smaller of the ADC clock's and the arrival times' reading). The place is
    where paced delivery resumed after the backlog: at the cut or after it, by the audio the
    sound server already held past the cut when the stall ended (it arrives with the backlog
    and its timestamps cannot tell the two apart). Usually within 0.06 s; through a null sink
    on a loaded machine measured up to 0.6 s late. Reported up to ~2 s after the cut (once the
    clock has settled).
    """

    at_s: float
    lost_s: float
    cause: str

    def describe(self) -> str:
        """The sentence a user sees."""
        if self.cause == RING_FULL:
            return (
                f"{_duration(self.lost_s)} of audio was dropped {self.at_s:.1f} s into this "
                "input because the recorder fell behind reading it; the transcript will not "
                "contain what was said then."
            )
        why = {
            INPUT_OVERFLOW: "the audio input overflowed",
            INPUT_TIMING: "the sound system dropped it",
        }.get(self.cause, self.cause)
        return (
            f"About {_duration(self.lost_s)} of audio is missing {self.at_s:.1f} s into this "
            f"input: {why} (the computer was too busy to keep up). The transcript will not "
            "contain what was said then."
        )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class TimingLossDetector:
    """Turns per-callback (frames so far, ADC time, overflow flag) into AudioLoss estimates.

    Without loss, `adc_time - frames / rate` stays constant (apart from jitter and slow drift);
    lost frames make it jump by their duration. Inputs whose host API gives no ADC time (0)
    are only reported through their overflow flags, with lost_s 0.
    """

    def __init__(
        self,
        rate: int,
        threshold_s: float = LOSS_THRESHOLD_S,
        settle_s: float = SETTLE_S,
        warmup_s: float = WARMUP_S,
    ) -> None:
        self.rate = rate
        self.threshold_s = threshold_s
        self.settle_s = settle_s
        self.warmup_s = warmup_s
        self._recent: deque[tuple[float, float]] = deque(maxlen=_SMOOTH)  # (offset, at_s)
        self._first_seen: int | None = None
        self._baseline: float | None = None
        self._last_seen = 0
        self._last_now = 0.0
        self._episode: _Episode | None = None
        # (at_s, arrival time - audio time): jumps up by a stall, falls while a backlog arrives
        self._arrivals: deque[tuple[float, float]] = deque(maxlen=_ARRIVALS)

    def feed(
        self, seen: int, accepted: int, adc_time: float, flagged: bool, now: float = 0.0
    ) -> AudioLoss | None:
        """One callback: `seen` frames delivered before it, `accepted` of them kept in the ring,
        the ADC time of its first frame, its overflow flag and the time it was called (0: not
        known)."""
        at_s = accepted / self.rate
        if not math.isfinite(adc_time) or adc_time <= 0:
            return AudioLoss(at_s, 0.0, INPUT_OVERFLOW) if flagged else None
        dt = max(seen - self._last_seen, 0) / self.rate
        waited = now - self._last_now
        catching_up = 0 < self._last_now <= now and not _BURST * dt <= waited <= _STALL * dt
        self._last_seen, self._last_now = seen, now
        if now > 0:
            self._arrivals.append((at_s, now - seen / self.rate))
        if self._first_seen is None:
            self._first_seen = seen
        if catching_up and not flagged:
            return None  # a backlog arriving at once: its ADC times are not trustworthy
        self._recent.append((adc_time - seen / self.rate, at_s))
        level = self._level()
        episode = self._episode
        if self._baseline is None:
            if (seen - self._first_seen) / self.rate < self.warmup_s and not flagged:
                return None
            self._baseline = level
        if episode is None:
            excess = level - self._baseline
            if excess > self.threshold_s or flagged:
                cause = INPUT_OVERFLOW if flagged else INPUT_TIMING
                start = self._rise_start(self._baseline, at_s)
                self._episode = _Episode(start, cause, max(level, self._baseline), seen)
                return None
            if excess < 0:
                self._baseline = level
            else:
                self._baseline += min(excess, FOLLOW_S_PER_S * dt)
            return None
        if flagged:
            episode.cause = INPUT_OVERFLOW
        if level > episode.peak + _RISE_S:
            episode.peak = level
            episode.rose_at = seen
        if (seen - episode.rose_at) / self.rate >= self.settle_s:
            return self._close(level)
        return None

    def finish(self) -> AudioLoss | None:
        """The stream ended: report a loss still being measured (as far as it is known)."""
        if self._episode is None or not self._recent:
            return None
        return self._close(self._level())

    def _level(self) -> float:
        offsets = sorted(offset for offset, _ in self._recent)
        return offsets[len(offsets) // 2]

    def _rise_start(self, baseline: float, fallback: float) -> float:
        """Where the clock started running ahead: the first recent callback clearly above."""
        for offset, at_s in self._recent:
            if offset - baseline > self.threshold_s / 2:
                return at_s
        return fallback

    def _close(self, level: float) -> AudioLoss | None:
        episode = self._episode
        baseline = self._baseline
        assert episode is not None and baseline is not None
        self._episode = None
        self._baseline = max(level, baseline)
        lost_s = max(level - baseline, 0.0)
        arrivals = list(self._arrivals)
        stall = self._stall(arrivals, lost_s)
        at_s = episode.at_s if stall is None else _backlog_end(arrivals[stall:])
        paced = self._paced_loss(arrivals, stall, episode.at_s)
        if paced is not None:
            lost_s = min(lost_s, paced)
        if lost_s < self.threshold_s and episode.cause == INPUT_TIMING:
            return None  # the sound server's latency estimate moved, not the audio
        return AudioLoss(at_s, lost_s, episode.cause)

    def _stall(self, arrivals: list[tuple[float, float]], lost_s: float) -> int | None:
        """Index of the first callback after a stall at least as long as the loss, if any.

        A sound server that drops a stalled client's audio keeps the oldest and drops the
        newest, so after the stall the backlog arrives at once and the cut follows it. In
        arrival time minus audio time, the stall is a jump up and the backlog a fall.
        """
        if len(arrivals) < 2:
            return None
        jumps = [(b[1] - a[1], i + 1) for i, (a, b) in enumerate(itertools.pairwise(arrivals))]
        longest, first = max(jumps)
        return first if longest >= max(lost_s, self.threshold_s) else None

    def _paced_loss(
        self, arrivals: list[tuple[float, float]], stall: int | None, start_s: float
    ) -> float | None:
        """How much later than the audio's own time callbacks arrive now than before the loss.

        Lost audio leaves the callbacks that many seconds behind the wall clock for good; a
        changed latency estimate does not. Callbacks come late, never early, so the lowest
        arrival debt over a second is the pace. None when the arrival times are not known.
        """
        split = stall
        if split is None:
            split = next((i for i, (at_s, _) in enumerate(arrivals) if at_s >= start_s), None)
        if not split:
            return None
        since = arrivals[split - 1][0] - 1.0
        before = [debt for at_s, debt in arrivals[:split] if at_s >= since]
        since = arrivals[-1][0] - self.settle_s
        after = [debt for at_s, debt in arrivals[split:] if at_s >= since]
        if not after:
            return None
        return max(min(after) - min(before), 0.0)


def _backlog_end(after_stall: list[tuple[float, float]]) -> float:
    """Where paced delivery resumed after the stall's backlog: where the lost audio belongs."""
    lowest = min(debt for _, debt in after_stall)
    end = next(i for i, (_, debt) in enumerate(after_stall) if debt <= lowest + _PACED_S)
    while end + 1 < len(after_stall):  # still part of the burst: the next block came at once
        (at_s, debt), (next_at_s, next_debt) = after_stall[end], after_stall[end + 1]
        if debt - next_debt <= _BURST * (next_at_s - at_s):
            break
        end += 1
    return after_stall[end][0]


@dataclass
class _Episode:
    at_s: float
    cause: str
    peak: float
    rose_at: int
