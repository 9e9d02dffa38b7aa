"""Encoder: OGG round trip, exact length, block-wise writes of long input."""

from __future__ import annotations

import numpy as np
import pytest

from recorder.encoder import MAX_BLOCK_FRAMES, EncoderSettings, decode_ogg, encode_ogg
from recorder.errors import BadAudioFileError


@pytest.mark.parametrize("codec", ["vorbis", "opus"])
def test_round_trip_keeps_length_and_shape(codec: str) -> None:
    rate = 16_000
    t = np.arange(rate * 2) / rate
    pcm = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    data = encode_ogg(pcm, rate, EncoderSettings(codec=codec))
    assert data[:4] == b"OggS"
    decoded, decoded_rate = decode_ogg(data)
    assert decoded_rate == rate
    assert len(decoded) == len(pcm)
    assert np.corrcoef(decoded, pcm)[0, 1] > 0.95


def test_long_input_is_written_in_blocks_without_crashing() -> None:
    # libsndfile 1.2.2 Vorbis segfaults on single writes of millions of frames.
    pcm = (np.random.default_rng(0).standard_normal(MAX_BLOCK_FRAMES * 40) * 0.05).astype(
        np.float32
    )
    decoded, _ = decode_ogg(encode_ogg(pcm, 16_000))
    assert len(decoded) == len(pcm)


def test_bad_settings_and_input() -> None:
    with pytest.raises(ValueError, match="codec"):
        EncoderSettings(codec="mp3")
    with pytest.raises(ValueError, match="compression_level"):
        EncoderSettings(compression_level=1.5)
    with pytest.raises(ValueError, match="mono"):
        encode_ogg(np.zeros((10, 2), dtype=np.float32), 16_000)
    with pytest.raises(BadAudioFileError):
        decode_ogg(b"not audio at all")
