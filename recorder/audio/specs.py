"""What to capture from: a microphone, or a file played as if it were one."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MicrophoneSpec:
    """An input device: `device` is a name substring, an index, or None for the default input.

    `device_rate` / `channels` force how the device is opened (normally left None: 16 kHz mono
    is tried first, then the device's own default). Forcing them exercises the resampling path.
    """

    device: str | int | None = None
    device_rate: int | None = None
    channels: int | None = None

    def __post_init__(self) -> None:
        if self.device_rate is not None and self.device_rate <= 0:
            raise ValueError(f"device_rate must be positive, not {self.device_rate}")
        if self.channels is not None and self.channels <= 0:
            raise ValueError(f"channels must be positive, not {self.channels}")


@dataclass(frozen=True)
class FileSpec:
    """A file played as a microphone: `speed` 1.0 is real time, N is N× faster, 0 flat out.

    A truncated OGG (no end-of-stream page) is refused unless `allow_truncated`, in which case
    its readable prefix is captured.
    """

    path: Path
    speed: float = 1.0
    allow_truncated: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(os.fspath(self.path)))
        if not math.isfinite(self.speed) or self.speed < 0:
            raise ValueError(f"speed must be a finite number >= 0, not {self.speed}")


SourceSpec = MicrophoneSpec | FileSpec
