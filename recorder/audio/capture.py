"""Capture: one source feeding one ring, read back as float32 mono at the target rate.

The reader (the session's writer thread) calls `read()` about every 100 ms; resampling,
mixdown and the watchdog run there, never in the audio callback. Nothing captured is thrown
away by `stop()`: the ring drains through `read()` until `finished`. Audio lost on the way in
(ring full, input overflow, dropped by the sound system) is never silent: each loss becomes an
`AudioLoss` (`losses()`, where and how long) and a CaptureProblem("overflow").
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from recorder.audio.file_source import FileSource
from recorder.audio.losses import INPUT_OVERFLOW, RING_FULL, AudioLoss
from recorder.audio.microphone import MicrophoneSource
from recorder.audio.resample import Mono, MonoResampler
from recorder.audio.source import Source
from recorder.audio.specs import FileSpec, MicrophoneSpec, SourceSpec
from recorder.events import CaptureProblem

DEFAULT_RING_SECONDS = 30.0  # how long the reader may fall behind before audio is dropped
STALL_AFTER_S = 2.0  # no audio for this long while capturing: the watchdog reports a stall
STARTUP_GRACE_S = 5.0  # some devices (PulseAudio's monitor) take ~2 s to deliver the first block
_POLL_S = 0.01  # the reader polls instead of sharing a lock with the callback


@dataclass(frozen=True)
class CaptureStats:
    """Counters of one capture (device-side frames unless said otherwise)."""

    overflows: int  # times the device reported lost input (PortAudio input_overflow)
    dropped_frames: int  # frames lost because the ring was full (reader too slow)
    frames_captured: int  # device frames accepted into the ring
    frames_delivered: int  # mono frames at target_rate returned by read()
    device_rate: int
    channels: int
    device: str
    peak: float  # highest peak seen since start, 0..1
    producer_errors: int  # exceptions caught inside the callback / feeder
    lost_s: float = 0.0  # audio known lost so far (dropped frames + estimated input losses)


class Capture:
    """Opens the source on construction (errors surface here), starts it on `start()`."""

    def __init__(
        self,
        spec: SourceSpec,
        target_rate: int = 16_000,
        ring_seconds: float = DEFAULT_RING_SECONDS,
        stall_after_s: float = STALL_AFTER_S,
    ) -> None:
        if target_rate <= 0 or ring_seconds <= 0:
            raise ValueError("target_rate and ring_seconds must be positive")
        self.spec = spec
        self.target_rate = target_rate
        self.stall_after_s = stall_after_s
        self._source: Source
        if isinstance(spec, FileSpec):
            self._source = FileSource(spec, ring_seconds)
        elif isinstance(spec, MicrophoneSpec):
            self._source = MicrophoneSource(spec, target_rate, ring_seconds)
        else:
            raise TypeError(f"not a source spec: {spec!r}")
        self._resampler = MonoResampler(
            self._source.device_rate, self._source.channels, target_rate
        )
        self._delivered = 0
        self._drained = False
        self._problems: list[CaptureProblem] = []
        self._lock = threading.Lock()  # reader-side only: guards watchdog state and problems
        self._reported_overflows = 0
        self._losses: list[AudioLoss] = []  # not yet taken by losses()
        self._lost_s = 0.0
        self._reported_lost = False
        self._stalled = False

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start capturing (AudioInputError if the device refuses to start); once only."""
        self._source.start()

    def stop(self) -> None:
        """Stop capturing for good; everything captured so far stays readable through read()."""
        self._source.stop()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- reading ---------------------------------------------------------------------------

    def read(self, timeout: float = 0.1) -> Mono:
        """Float32 mono at target_rate captured since the last call (empty if none came)."""
        ring = self._source.ring
        deadline = time.monotonic() + max(timeout, 0.0)
        while ring.available() == 0 and not self._source.producer_done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(_POLL_S, remaining))
        ended = self._source.producer_done  # read before draining: no frame can follow it
        block = ring.read()
        last = ended and ring.available() == 0 and not self._drained
        out = self._resampler.process(block, last=last)
        if last:
            self._drained = True
        self._delivered += len(out)
        self._watch()
        return out

    @property
    def finished(self) -> bool:
        """The source ended (file over, or stopped) and every captured frame has been read."""
        return self._drained and self._source.ring.available() == 0

    def problems(self) -> list[CaptureProblem]:
        """New problems (overflow, stalled, device_lost) since the previous call."""
        self._watch()
        with self._lock:
            found, self._problems = self._problems, []
        return found

    def losses(self) -> list[AudioLoss]:
        """Audio lost since the previous call: where (`at_s` into this capture) and how long.

        Each one was also reported as a CaptureProblem("overflow"); this is the same loss as
        data, for marking the gap in the recording.
        """
        self._watch()
        with self._lock:
            found, self._losses = self._losses, []
        return found

    def level(self) -> tuple[float, float]:
        """(peak 0..1, RMS dBFS) of the input since the previous call."""
        return self._source.meter.take()

    @property
    def stats(self) -> CaptureStats:
        source = self._source
        return CaptureStats(
            overflows=source.overflows,
            dropped_frames=source.ring.dropped_frames,
            frames_captured=source.ring.total_written,
            frames_delivered=self._delivered,
            device_rate=source.device_rate,
            channels=source.channels,
            device=source.device_name,
            peak=min(source.meter.max_peak, 1.0),
            producer_errors=source.producer_errors,
            lost_s=self._lost_s,
        )

    @property
    def stalled(self) -> bool:
        """True while the watchdog considers the input stalled (clears when audio flows again)."""
        self._watch()
        return self._stalled

    @property
    def device_name(self) -> str:
        return self._source.device_name

    @property
    def last_audio_at(self) -> float:
        """time.monotonic() of the source's last delivery (of its start, before the first)."""
        return self._source.last_delivery

    # -- watchdog --------------------------------------------------------------------------

    def _watch(self) -> None:
        """Turn counter changes and silence from the source into CaptureProblem events."""
        source = self._source
        with self._lock:
            overflows = source.overflows
            if overflows > self._reported_overflows:
                new = overflows - self._reported_overflows
                self._reported_overflows = overflows
                self._problems.append(
                    CaptureProblem(
                        "overflow",
                        f"The audio input reported lost data {new} time(s) (the computer was too "
                        "busy to keep up); how much is missing is reported once measured.",
                        new,
                    )
                )
            rate = source.device_rate
            for position, count in source.ring.take_drops():
                self._lost(AudioLoss(position / rate, count / rate, RING_FULL), count)
            for loss in source.take_losses():
                if loss.lost_s > 0 or loss.cause != INPUT_OVERFLOW:  # flags alone: said above
                    self._lost(loss, round(loss.lost_s * rate))
            lost = source.lost()
            if lost is not None and not self._reported_lost:
                self._reported_lost = True
                self._problems.append(
                    CaptureProblem(
                        "device_lost",
                        f"Audio input {source.device_name!r}: {lost}. The audio captured before "
                        "this point is kept.",
                    )
                )
            if source.expects_audio() and lost is None:
                silent_for = time.monotonic() - source.last_delivery
                allowed = self.stall_after_s
                if not source.delivered_once:
                    allowed = max(allowed, STARTUP_GRACE_S)
                if silent_for > allowed and not self._stalled:
                    self._stalled = True
                    self._problems.append(
                        CaptureProblem(
                            "stalled",
                            f"Audio input {source.device_name!r} has delivered nothing for "
                            f"{silent_for:.1f} s (device unplugged, muted by the system or "
                            "taken by another application?). The audio captured before this "
                            "point is kept.",
                        )
                    )
                elif silent_for <= allowed:
                    self._stalled = False

    def _lost(self, loss: AudioLoss, frames: int) -> None:
        """Keep a loss for losses() and say it (caller holds the lock)."""
        self._losses.append(loss)
        self._lost_s += loss.lost_s
        self._problems.append(CaptureProblem("overflow", loss.describe(), frames))


def empty_pcm() -> Mono:
    """A zero-length mono block (what read() returns when nothing came)."""
    return np.zeros(0, dtype=np.float32)
