"""Reopening a lost microphone: the same input again, else the default one, with backoff.

PortAudio only sees a device plugged in again (or a restarted sound server's devices) after
it is re-initialised, which `refresh_devices()` does only while no stream is open (and at most
once a second: a re-scan mutes the process's stderr for ~30 ms). Attempts run
on a thread of their own, so the recording's writer thread never waits on a sound server that
hangs; it polls `take()` and may `cancel()` at any time (Stop, or the time limit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from recorder.audio.capture import Capture
from recorder.audio.devices import RESCAN_AFTER_S, refresh_devices
from recorder.audio.specs import MicrophoneSpec
from recorder.errors import RecorderError

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0, 3.0)  # then every 3 s: a replugged mic is found quickly
PREFER_NAMED_S = 5.0  # wait this long for the chosen input before settling for the default

OpenCapture = Callable[[MicrophoneSpec], Capture]


class Reopener:
    """Tries to open and start a capture on `spec`'s input (later also the default input)."""

    def __init__(
        self,
        spec: MicrophoneSpec,
        open_capture: OpenCapture,
        *,
        delays_s: Sequence[float] = RETRY_DELAYS_S,
        prefer_named_s: float = PREFER_NAMED_S,
    ) -> None:
        self.spec = spec
        self._open = open_capture
        self._delays = tuple(delays_s) or (1.0,)
        self._prefer_named_s = prefer_named_s
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._opened: Capture | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="input-reopen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> Capture | None:
        """The started capture once one is open (handed over once), else None."""
        with self._lock:
            opened, self._opened = self._opened, None
        return opened

    def cancel(self) -> None:
        """Stop trying; a capture opened but not taken is closed again."""
        self._cancelled.set()
        leftover = self.take()
        if leftover is not None:
            leftover.stop()

    def _candidates(self, waited_s: float) -> list[MicrophoneSpec]:
        specs = [self.spec]
        if self.spec.device is not None and waited_s >= self._prefer_named_s:
            specs.append(MicrophoneSpec(None, self.spec.device_rate, self.spec.channels))
        return specs

    def _run(self) -> None:
        began = time.monotonic()
        tries = 0
        while not self._cancelled.is_set():
            try:  # skipped while the lost stream is still closing, or just re-scanned
                refresh_devices(if_older_than_s=RESCAN_AFTER_S)
            except Exception as error:  # PortAudio failing to re-initialise: try again later
                self.last_error = str(error)
            for spec in self._candidates(time.monotonic() - began):
                capture = self._attempt(spec)
                if capture is None:
                    continue
                with self._lock:
                    if not self._cancelled.is_set():
                        self._opened = capture
                        return
                capture.stop()
                return
            delay = self._delays[min(tries, len(self._delays) - 1)]
            tries += 1
            self._cancelled.wait(delay)

    def _attempt(self, spec: MicrophoneSpec) -> Capture | None:
        self.attempts += 1
        try:
            capture = self._open(spec)
        except RecorderError as error:
            self.last_error = str(error)
            return None
        except Exception as error:  # PortAudio can fail in ways sounddevice does not wrap
            log.warning("reopening the input failed: %s", type(error).__name__)
            self.last_error = str(error)
            return None
        try:
            capture.start()
        except Exception as error:
            self.last_error = str(error)
            capture.stop()
            return None
        return capture
