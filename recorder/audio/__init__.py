"""Audio capture: sources (microphone, file played as a microphone) feeding one ring buffer.

INTERFACE (owned by the capture work; the session relies on exactly this):

    spec = MicrophoneSpec(device=None | "name substring" | index)
    spec = FileSpec(path, speed=1.0)          # real time, or N times faster
    cap = Capture(spec, target_rate=16_000)   # raises NoInputDeviceError / BadAudioFileError
                                               #   / AudioInputError
    cap.start()
    while True:                                # the writer thread
        pcm = cap.read(timeout=0.1)            # float32 mono at target_rate; may be empty
        for problem in cap.problems():         # new CaptureProblem events since last call
            ...
        if cap.finished: break                 # file ended, or stopped and fully drained
    cap.stop()                                 # stop capture; read() still returns what is buffered
    cap.losses()                               # new AudioLoss(at_s, lost_s, cause) since last call
    cap.stats                                  # CaptureStats(overflows, frames_captured, peak, ...)
    cap.level()                                # (peak 0..1, rms dBFS) since the last call
    list_input_devices() -> list[InputDevice]

Extras: Capture(..., ring_seconds=30, stall_after_s=2). CaptureStats also has dropped_frames,
frames_delivered, device_rate, channels, device. MicrophoneSpec(device, device_rate=None,
channels=None) forces how the device is opened. FileSpec(path, speed, allow_truncated=False)
refuses a truncated OGG unless allowed (then its readable prefix is captured). A file whose
decoding fails mid-way delivers what was readable and reports CaptureProblem("device_lost").
read() and problems() run the watchdog: a source silent for STALL_AFTER_S while capturing gives
CaptureProblem("stalled"), a stream that ended by itself CaptureProblem("device_lost"); ring
overruns and PortAudio overflows give CaptureProblem("overflow", count=frames dropped / flags).
Audio lost on the way in is also measured and placed: an AudioLoss (recorder.audio.losses) and a
CaptureProblem("overflow", count=device frames lost) per loss; ring_full exactly, input_overflow
and input_timing (PulseAudio dropping a stalled client's audio, no flag raised) estimated from
the callback's ADC clock. CaptureStats.lost_s is their total.
cap.last_audio_at is the time.monotonic() of the last delivery (where a gap starts).

    r = Reopener(MicrophoneSpec(...), open_capture)   # after a device_lost / stalled
    r.start(); cap = r.take()                          # None until an input is open and started
    r.cancel()                                         # Stop or time limit; closes an untaken one
"""

from recorder.audio.capture import DEFAULT_RING_SECONDS, STALL_AFTER_S, Capture, CaptureStats
from recorder.audio.devices import InputDevice, list_input_devices, resolve_input_device
from recorder.audio.level import SILENCE_DBFS
from recorder.audio.losses import AudioLoss
from recorder.audio.reopen import Reopener
from recorder.audio.specs import FileSpec, MicrophoneSpec, SourceSpec

__all__ = [
    "DEFAULT_RING_SECONDS",
    "SILENCE_DBFS",
    "STALL_AFTER_S",
    "AudioLoss",
    "Capture",
    "CaptureStats",
    "FileSpec",
    "InputDevice",
    "MicrophoneSpec",
    "Reopener",
    "SourceSpec",
    "list_input_devices",
    "resolve_input_device",
]
