"""Reading uploaded audio: a quick check at upload time, a streaming decode for transcription.

Both use PyAV (FFmpeg), which faster-whisper itself decodes with.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from server.ogg import OggDamaged, check_ogg_file

SAMPLE_RATE = 16000
# The longest audio one upload may hold: a whole clinic day. A documented limit, not a
# memory one: a file is decoded and transcribed a window at a time (server/windows.py), so
# the server's memory does not grow with its length. 8 h take ~30 min on two cores with
# tiny.en (RTF ~0.06); short chunks are taken between its windows (server/workers.py).
MAX_AUDIO_SECONDS = 8 * 3600
MAX_PROBE_PACKETS = 64
GROUP_SAMPLES = 500_000  # decoded samples resampled at once, as in faster-whisper
log = logging.getLogger("server.audio")

# FFmpeg logs each damaged frame of a bad upload; the server's own log says what matters.
av.logging.set_level(av.logging.PANIC)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


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
            f"the audio is longer than {_hours(MAX_AUDIO_SECONDS)}; send it in parts"
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


def check_integrity(path: Path) -> None:
    """An Ogg file must be whole (FFmpeg would quietly decode what it can of a damaged one)."""
    with path.open("rb") as stream:
        is_ogg = stream.read(4) == b"OggS"
    if is_ogg:
        try:
            check_ogg_file(path)
        except OggDamaged as error:
            raise AudioRejected(f"damaged Ogg file: {error}") from None


class DecodedAudio:
    """The samples of a file, 16 kHz mono float32, decoded a block at a time as they are read.

    Iterating yields blocks of at most ~31 s; `samples` counts what was read so far. The
    pipeline is faster-whisper's own `decode_audio` (PyAV, s16 mono resampling, invalid
    packets skipped), so the samples are the same, but a long file is never held whole.
    Raises AudioRejected while iterating: undecodable, no samples, or longer than the cap.
    """

    def __init__(self, path: Path, max_seconds: float = MAX_AUDIO_SECONDS) -> None:
        self.path = path
        self.max_seconds = max_seconds
        self.samples = 0

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    def __iter__(self) -> Iterator[NDArray[np.float32]]:
        try:
            for block in self._blocks():
                self.samples += block.size
                if self.samples > self.max_seconds * SAMPLE_RATE:
                    raise AudioTooLong(
                        f"the audio is longer than {_hours(self.max_seconds)}; send it in parts"
                    )
                yield block
        except (av.FFmpegError, ValueError, OSError) as error:
            if isinstance(error, AudioRejected):
                raise
            raise AudioRejected(f"not decodable audio ({type(error).__name__})") from None
        if self.samples == 0:
            raise AudioRejected("the file holds no audio samples")

    def _blocks(self) -> Iterator[NDArray[np.float32]]:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        try:
            with av.open(str(self.path), mode="r", metadata_errors="ignore") as container:
                fifo = av.AudioFifo()
                for frame in _valid_frames(container.decode(audio=0)):
                    frame.pts = None  # the FIFO checks timestamps; a damaged file has gaps
                    fifo.write(frame)
                    if fifo.samples >= GROUP_SAMPLES:
                        yield from _resampled(resampler, fifo.read())
                if fifo.samples:
                    yield from _resampled(resampler, fifo.read())
                yield from _resampled(resampler, None)  # flush the resampler
        finally:
            # PyAV frees some resampler state only on a collection (faster-whisper #390).
            del resampler
            gc.collect()


def _valid_frames(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    """Skip packets FFmpeg calls invalid, as faster-whisper's `decode_audio` does."""
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except av.InvalidDataError:
            continue


def _resampled(
    resampler: av.AudioResampler, frame: av.AudioFrame | None
) -> Iterator[NDArray[np.float32]]:
    for out in resampler.resample(frame):
        yield out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
