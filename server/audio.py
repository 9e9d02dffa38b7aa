"""Reading uploaded audio: a quick check at upload time, the full decode for transcription.

Both use PyAV (FFmpeg), which faster-whisper itself decodes with.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from server.ogg import OggDamaged, check_ogg

SAMPLE_RATE = 16000
# Whisper works on the whole decoded clip in memory (~0.35 GB per hour of audio with its
# spectrogram), so one upload is capped; a longer recording must be sent in parts.
MAX_AUDIO_SECONDS = 3 * 3600
MAX_PROBE_PACKETS = 64
log = logging.getLogger("server.audio")

# FFmpeg logs each damaged frame of a bad upload; the server's own log says what matters.
av.logging.set_level(av.logging.PANIC)


class AudioRejected(ValueError):
    """The file is not audio that can be decoded; the message says why (no content)."""


class AudioTooLong(AudioRejected):
    """Decodable, but longer than one upload may be."""


def probe(path: Path) -> float:
    """Check that the file is a container with an audio stream whose first frame decodes.

    Returns the duration in seconds (0.0 when the container does not say).
    Longer than MAX_AUDIO_SECONDS is rejected.
    """
    duration = _probe(path)
    if duration > MAX_AUDIO_SECONDS:
        raise AudioTooLong(
            f"the audio is longer than {MAX_AUDIO_SECONDS // 3600} h; send it in parts"
        )
    return duration


def _probe(path: Path) -> float:
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioRejected("the file has no audio stream")
            stream = container.streams.audio[0]
            frame_found = False
            for packets, packet in enumerate(container.demux(stream)):
                if packets >= MAX_PROBE_PACKETS:
                    break
                if packet.size and packet.decode():
                    frame_found = True
                    break
            if not frame_found:
                raise AudioRejected("no decodable audio frame at the start of the file")
            if container.duration is not None and container.duration > 0:
                return float(container.duration) / 1_000_000
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return 0.0
    except AudioRejected:
        raise
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError) as error:
        raise AudioRejected(f"not decodable audio ({type(error).__name__})") from None


def decode(path: Path) -> NDArray[np.float32]:
    """All samples, 16 kHz mono float32; raises AudioRejected on damaged or empty audio."""
    head = path.read_bytes()
    if head.startswith(b"OggS"):
        try:
            check_ogg(head)
        except OggDamaged as error:
            raise AudioRejected(f"damaged Ogg file: {error}") from None
    del head
    from faster_whisper import decode_audio

    try:
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, ValueError, OSError) as error:
        raise AudioRejected(f"not decodable audio ({type(error).__name__})") from None
    assert isinstance(samples, np.ndarray)
    if samples.size == 0:
        raise AudioRejected("the file holds no audio samples")
    if samples.size > MAX_AUDIO_SECONDS * SAMPLE_RATE:
        raise AudioRejected(f"the audio is longer than {MAX_AUDIO_SECONDS // 3600} h")
    return samples.astype(np.float32, copy=False)
