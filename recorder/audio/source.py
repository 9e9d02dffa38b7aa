"""What every producer (microphone, file) shares: a ring to fill, a level meter, counters."""

from __future__ import annotations

import time

from recorder.audio.level import LevelMeter
from recorder.audio.losses import AudioLoss
from recorder.audio.ring import RingBuffer


class Source:
    """A producer of device frames (frames × channels, float32) at `device_rate`.

    Counters are written by the producer only and read by the Capture's reader side.
    """

    def __init__(self, device_name: str, device_rate: int, channels: int, ring_seconds: float):
        self.device_name = device_name
        self.device_rate = device_rate
        self.channels = channels
        self.ring = RingBuffer(max(int(ring_seconds * device_rate), 1), channels)
        self.meter = LevelMeter()
        self.overflows = 0  # the device said it lost input (PortAudio input_overflow)
        self.producer_errors = 0  # exceptions caught inside the producer
        self.last_delivery = time.monotonic()
        self.delivered_once = False  # the first audio has arrived (devices can be slow to start)
        self.started = False
        self.stopping = False  # stop() was called: silence from now on is expected
        self.producer_done = False  # no frame will ever be added again
        self.failure: str | None = None  # why it stopped delivering by itself

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def lost(self) -> str | None:
        """Why the source stopped delivering by itself (device lost, file unreadable), or None."""
        return self.failure

    def take_losses(self) -> list[AudioLoss]:
        """Reader side: input losses the producer's own timing revealed since the last call."""
        return []

    def expects_audio(self) -> bool:
        """True while the source should be delivering: started, not stopped, not ended."""
        return self.started and not self.stopping and not self.producer_done
