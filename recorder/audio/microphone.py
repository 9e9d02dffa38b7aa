"""The microphone source: a PortAudio input stream whose callback only fills the ring.

The callback follows PortAudio's rules: no allocation beyond sounddevice's own view of the
buffer, no lock, no I/O, no logging, and it never raises (an exception there would silently
stop the stream), so everything in it is wrapped and only counted. It also journals each
block's frame count, ADC time and overflow flag into a preallocated array, from which the
reader's `take_losses()` estimates audio lost before it reached us (recorder.audio.losses).
"""

from __future__ import annotations

import threading
import time
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from recorder.audio.devices import (
    import_sounddevice,
    portaudio_lock,
    resolve_input_device,
    stream_closed,
    stream_opened,
)
from recorder.audio.losses import AudioLoss, TimingLossDetector
from recorder.audio.ring import Frames
from recorder.audio.source import Source
from recorder.audio.specs import MicrophoneSpec
from recorder.errors import AudioInputError

STOP_TIMEOUT_S = 3.0  # a dead sound server can make stopping a stream hang; never wait longer
JOURNAL_SLOTS = 4096  # callbacks remembered for the reader (~200 s of 50 ms blocks)


class MicrophoneSource(Source):
    """Opens the device at 16 kHz mono if it allows, else at its own default rate / channels."""

    def __init__(self, spec: MicrophoneSpec, target_rate: int, ring_seconds: float) -> None:
        sd = import_sounddevice()
        with portaudio_lock:  # no device re-scan between choosing the device and opening it
            self._stream: Any = self._open(sd, spec, target_rate, ring_seconds)
            stream_opened()
        self._sd: ModuleType = sd
        self.callbacks = 0
        self.frames_seen = 0  # frames PortAudio delivered, kept or not
        # per callback: frames seen before it, frames kept before it, ADC time, overflow flag,
        # PortAudio's time of the call
        self._journal: npt.NDArray[np.float64] = np.zeros((JOURNAL_SLOTS, 5))
        self._journalled = 0  # producer-owned, published after the row is complete
        self._journal_taken = 0  # reader-owned
        self._detector = TimingLossDetector(self.device_rate)

    def _open(
        self, sd: ModuleType, spec: MicrophoneSpec, target_rate: int, ring_seconds: float
    ) -> Any:
        device = resolve_input_device(spec.device)
        last_error: Exception | None = None
        for rate, channels in _candidate_settings(
            spec, device.default_rate, device.channels, target_rate
        ):
            try:
                sd.check_input_settings(
                    device=device.index, samplerate=rate, channels=channels, dtype="float32"
                )
                super().__init__(device.name, rate, channels, ring_seconds)
                return sd.InputStream(
                    device=device.index,
                    samplerate=rate,
                    channels=channels,
                    dtype="float32",
                    latency="high",
                    blocksize=max(rate // 20, 1),  # 50 ms: a steady cadence, few Python calls
                    callback=self._callback,
                    finished_callback=self._on_finished,
                )
            except (sd.PortAudioError, ValueError) as error:
                last_error = error
        raise AudioInputError(
            f"The audio input {device.name!r} could not be opened ({last_error}). It may be "
            "in use by another application or unplugged; close other recording apps or "
            "choose another input (see `ambient-recorder devices`)."
        )

    def _callback(self, indata: Frames, frames: int, time_info: Any, status: Any) -> None:
        try:
            flagged = status.input_overflow
            if flagged:
                self.overflows += 1
            row = self._journalled % JOURNAL_SLOTS
            journal = self._journal
            journal[row, 0] = self.frames_seen
            journal[row, 1] = self.ring.total_written
            journal[row, 2] = time_info.inputBufferAdcTime
            journal[row, 3] = flagged
            journal[row, 4] = time_info.currentTime
            self._journalled += 1
            self.frames_seen += frames
            self.ring.write(indata)
            self.meter.update(indata)
            self.callbacks += 1
            self.last_delivery = time.monotonic()
            self.delivered_once = True
        except BaseException:
            self.producer_errors += 1

    def take_losses(self) -> list[AudioLoss]:
        """Run the journalled callbacks through the timing detector (reader side)."""
        done = self.producer_done  # read first: once done, no callback follows the journal
        journalled = self._journalled
        first = max(self._journal_taken, journalled - JOURNAL_SLOTS)  # lapped: skip the lost
        rows = self._journal[[i % JOURNAL_SLOTS for i in range(first, journalled)]]
        self._journal_taken = journalled
        found: list[AudioLoss] = []
        for seen, kept, adc_time, flagged, now in rows.tolist():
            loss = self._detector.feed(int(seen), int(kept), adc_time, bool(flagged), now)
            if loss is not None:
                found.append(loss)
        if done:
            last = self._detector.finish()
            if last is not None:
                found.append(last)
        return found

    def _on_finished(self) -> None:
        try:
            if not self.stopping:
                self.failure = "the audio input stopped by itself (device unplugged or taken)"
        except BaseException:
            self.producer_errors += 1

    def start(self) -> None:
        if self.started or self.stopping:
            return  # starting twice is harmless; a stopped capture stays stopped
        try:
            self._stream.start()
        except self._sd.PortAudioError as error:
            raise AudioInputError(
                f"The audio input {self.device_name!r} could not be started ({error})."
            ) from error
        self.last_delivery = time.monotonic()
        self.started = True

    def stop(self) -> None:
        """Stop and close the stream (bounded wait); frames already in the ring stay readable."""
        if self.stopping:
            return
        self.stopping = True
        closer = threading.Thread(target=self._close_quietly, name="mic-close", daemon=True)
        closer.start()
        closer.join(STOP_TIMEOUT_S)
        self.producer_done = True

    def _close_quietly(self) -> None:
        try:
            self._stream.stop()
        except Exception:
            self.producer_errors += 1
        with portaudio_lock:
            try:
                self._stream.close()
            except Exception:
                self.producer_errors += 1
            stream_closed()

    def lost(self) -> str | None:
        if self.failure is None and self.started and not self.stopping:
            try:
                active = bool(self._stream.active)
            except Exception:
                active = False
            if not active:
                self.failure = "the audio input stream is no longer running (device lost)"
        return self.failure


def _candidate_settings(
    spec: MicrophoneSpec, default_rate: float, max_channels: int, target_rate: int
) -> list[tuple[int, int]]:
    """(rate, channels) to try in order: forced ones only, else target mono, then the device's."""
    if spec.device_rate is not None or spec.channels is not None:
        return [(spec.device_rate or target_rate, spec.channels or 1)]
    native = round(default_rate) or target_rate
    candidates = [
        (target_rate, 1),
        (native, 1),
        (native, min(2, max_channels)),
        (native, max_channels),
    ]
    unique: list[tuple[int, int]] = []
    for item in candidates:
        if item not in unique and item[1] >= 1:
            unique.append(item)
    return unique
