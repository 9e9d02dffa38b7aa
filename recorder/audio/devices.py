"""Input devices as PortAudio sees them, and turning a user's choice into one of them.

sounddevice is imported lazily: a machine without the PortAudio library must still be able to
import `recorder` (and get a clear AudioInputError only when it tries to capture).

PortAudio scans devices once, when initialised. A microphone plugged in later is only seen after
re-initialising it, which is safe only while no stream is open (Pa_Terminate closes every
stream): `portaudio_lock` and the count of open streams make `refresh_devices()` skip the
re-scan while recording, and listing devices holds the lock so no query reads a list being
rebuilt. sounddevice's `_initialize()` sends the process's stderr to /dev/null for the length
of a re-scan (~30 ms, to hide ALSA's probing noise), so automatic re-scans are rate-limited.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from recorder.errors import AudioInputError, NoInputDeviceError


@dataclass(frozen=True)
class InputDevice:
    """One device that can record."""

    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool
    host_api: str = ""

    def describe(self) -> str:
        """One human line, e.g. `3: USB mic (ALSA, 2 ch, 48000 Hz) [default]`."""
        api = f"{self.host_api}, " if self.host_api else ""
        mark = " [default]" if self.is_default else ""
        return (
            f"{self.index}: {self.name} ({api}{self.channels} ch, {self.default_rate:.0f} Hz){mark}"
        )


def import_sounddevice() -> ModuleType:
    """The sounddevice module, or AudioInputError when the PortAudio library is missing."""
    try:
        import sounddevice as sd_module
    except (OSError, ImportError) as error:
        raise AudioInputError(
            f"The PortAudio audio library could not be loaded ({error}). Install PortAudio "
            "(on Debian/Ubuntu: apt install libportaudio2) or reinstall the app."
        ) from error
    module: ModuleType = sd_module
    return module


portaudio_lock = threading.RLock()  # held while re-scanning, listing, opening or closing a stream
_open_streams = 0


def stream_opened() -> None:
    """Called with portaudio_lock held, after a stream was opened."""
    global _open_streams
    _open_streams += 1


def stream_closed() -> None:
    """Called with portaudio_lock held, after a stream was closed."""
    global _open_streams
    _open_streams = max(0, _open_streams - 1)


_last_scan = float("-inf")  # time.monotonic() of the last re-scan
RESCAN_AFTER_S = 1.0  # automatic re-scans (a device not found) at most this often


def refresh_devices(if_older_than_s: float = 0.0) -> bool:
    """Re-scan the devices (hot-plugged microphones) unless a stream is open; True if done.

    `if_older_than_s` skips it when the last re-scan is more recent than that.
    """
    global _last_scan
    sd = import_sounddevice()
    with portaudio_lock:
        if _open_streams or time.monotonic() - _last_scan < if_older_than_s:
            return False
        with contextlib.suppress(sd.PortAudioError):  # not initialised (a failed re-scan)
            sd._terminate()
        _last_scan = time.monotonic()
        sd._initialize()  # a PortAudioError here leaves it uninitialised: the next call retries
        return True


def list_input_devices(refresh: bool = True) -> list[InputDevice]:
    """Every device with at least one input channel (empty when there is none).

    With `refresh` (the default) devices plugged in since the last call are found too, unless
    a capture is running (then the list is the one PortAudio had; re-scanning costs ~50 ms).
    """
    sd = import_sounddevice()
    if refresh:
        refresh_devices()
    with portaudio_lock:  # never read PortAudio's list while another thread re-scans it
        try:
            raw: Any = sd.query_devices()
            apis: Any = sd.query_hostapis()
        except sd.PortAudioError:
            return []
        default_index = _default_input_index(sd)
    devices = []
    for info in raw:
        if int(info["max_input_channels"]) <= 0:
            continue
        api_index = int(info.get("hostapi", -1))
        api = str(apis[api_index]["name"]) if 0 <= api_index < len(apis) else ""
        devices.append(
            InputDevice(
                index=int(info["index"]),
                name=str(info["name"]),
                channels=int(info["max_input_channels"]),
                default_rate=float(info["default_samplerate"]),
                is_default=int(info["index"]) == default_index,
                host_api=api,
            )
        )
    return devices


def _default_input_index(sd: ModuleType) -> int:
    try:
        info: Any = sd.query_devices(kind="input")
        return int(info["index"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        return -1


def resolve_input_device(choice: str | int | None) -> InputDevice:
    """The device the user means: None → default input; int or digits → index; else a name.

    A name matches exactly (case-insensitive) first, then as a substring. When nothing
    matches, the devices are re-scanned once (plugged in, or a sound server restarted, since
    PortAudio last looked) unless a stream is open. Raises NoInputDeviceError, listing the
    available inputs, when still nothing matches.
    """
    try:
        return _pick(choice, list_input_devices(refresh=False))
    except NoInputDeviceError:
        if not refresh_devices(if_older_than_s=RESCAN_AFTER_S):
            raise
    return _pick(choice, list_input_devices(refresh=False))


def _pick(choice: str | int | None, devices: list[InputDevice]) -> InputDevice:
    if not devices:
        raise NoInputDeviceError(
            "No audio input device found: connect a microphone (or enable one in the system "
            "sound settings) and try again. Available inputs: none."
        )
    if choice is None or (isinstance(choice, str) and not choice.strip()):
        for device in devices:
            if device.is_default:
                return device
        raise NoInputDeviceError(
            "There is no default audio input device. Choose one of: " + _listing(devices)
        )
    if isinstance(choice, int) or choice.strip().isdigit():
        index = int(choice)
        for device in devices:
            if device.index == index:
                return device
        raise NoInputDeviceError(
            f"There is no audio input device number {index}. Available inputs: " + _listing(devices)
        )
    wanted = choice.strip().casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    partial = [d for d in devices if wanted in d.name.casefold()]
    if exact or partial:
        return (exact or partial)[0]
    raise NoInputDeviceError(
        f"No audio input device matches {choice!r}. Available inputs: " + _listing(devices)
    )


def _listing(devices: list[InputDevice]) -> str:
    return "; ".join(d.describe() for d in devices)
