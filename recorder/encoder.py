"""PCM -> OGG bytes in small blocks (libsndfile 1.2.2's Vorbis encoder crashes on huge writes).

Codec and quality were chosen by measurement (docs/encoding.md; scripts/measure_encoding.py on the
159 s sample consult, 16 kHz mono, transcribed with faster-whisper tiny.en):

    setting              CPU s/audio h   MB/audio h   WER
    vorbis level 0.5          6.7          14.7       0.145
    vorbis level 0.8          7.3          11.0       0.130   <- default
    vorbis level 1.0          6.5           8.9       0.158
    opus level 0.8           41.4          23.6       0.140
    opus level 1.0           58.1           2.7       0.282

Vorbis costs a sixth of Opus' CPU at the same accuracy, and accuracy does not improve above
level 0.8 (libsndfile's level maps to Vorbis quality 1 - level).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soundfile as sf

from recorder.errors import BadAudioFileError

MAX_BLOCK_FRAMES = 32_768  # well under the 64k frames where libsndfile's Vorbis encoder segfaults

_SUBTYPES = {"vorbis": "VORBIS", "opus": "OPUS"}


@dataclass(frozen=True)
class EncoderSettings:
    """Codec and libsndfile compression level (0 = best quality, 1 = smallest)."""

    codec: str = "vorbis"
    compression_level: float = 0.8

    def __post_init__(self) -> None:
        if self.codec not in _SUBTYPES:
            raise ValueError(f"unknown codec {self.codec!r}; use one of {sorted(_SUBTYPES)}")
        if not 0.0 <= self.compression_level <= 1.0:
            raise ValueError("compression_level must be within 0..1")


DEFAULT_SETTINGS = EncoderSettings()


def encode_ogg(
    pcm: npt.NDArray[np.float32], sample_rate: int, settings: EncoderSettings = DEFAULT_SETTINGS
) -> bytes:
    """Encode mono float32 PCM as an OGG file in memory, block by block."""
    if pcm.ndim != 1:
        raise ValueError("encode_ogg expects mono PCM (a 1-D array)")
    buffer = io.BytesIO()
    with sf.SoundFile(
        buffer,
        mode="w",
        samplerate=sample_rate,
        channels=1,
        format="OGG",
        subtype=_SUBTYPES[settings.codec],
        compression_level=settings.compression_level,
    ) as out:
        for start in range(0, len(pcm), MAX_BLOCK_FRAMES):
            out.write(pcm[start : start + MAX_BLOCK_FRAMES])
    return buffer.getvalue()


def decode_ogg(data: bytes) -> tuple[npt.NDArray[np.float32], int]:
    """Decode OGG bytes to mono float32 PCM and its sample rate (for export checks and tests)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as source:
            pcm = source.read(dtype="float32", always_2d=True)
            rate = int(source.samplerate)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise BadAudioFileError(f"not readable OGG audio: {error}") from error
    mono: npt.NDArray[np.float32] = pcm.mean(axis=1, dtype=np.float32)
    return mono, rate
