"""A long upload is decoded block by block and cut into windows at pauses (no model needed).

The server side (transcription of the windows, words at the cuts) is in test_long_upload.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio

from server.audio import AudioRejected, AudioTooLong, DecodedAudio
from server.windows import LAST_MIN_S, WINDOW_MAX_S, quietest_point, windows
from tests.server.support import RATE, read_consult, speech_spans, write_ogg

BLOCK = 500_000  # what DecodedAudio yields at most at 16 kHz


def _blocks(samples: np.ndarray, size: int = BLOCK) -> list[np.ndarray]:
    return [samples[i : i + size] for i in range(0, len(samples), size)]


def _cuts(parts: list[np.ndarray]) -> list[int]:
    return list(np.cumsum([len(p) for p in parts])[:-1])


@pytest.mark.parametrize("noise", [0.0, 0.003])
def test_windows_hold_every_sample_once_and_are_cut_only_between_turns(noise: float) -> None:
    consult = read_consult()
    clean = np.concatenate([consult] * 3)  # ~8 min of real speech
    audio = clean + np.random.default_rng(7).normal(0, noise, clean.size).astype(np.float32)
    audio = audio.astype(np.float32)

    parts = list(windows(_blocks(audio)))

    assert np.array_equal(np.concatenate(parts), audio)  # nothing lost, nothing repeated
    assert all(LAST_MIN_S * RATE <= len(p) <= WINDOW_MAX_S * RATE for p in parts)
    turns = speech_spans(clean)  # where the speech is, from the audio without the noise
    assert len(turns) == 27 * 3
    for cut in _cuts(parts):
        inside = [span for span in turns if span[0] < cut < span[1]]
        assert not inside, f"cut at {cut / RATE:.2f} s falls inside a turn {inside}"


def test_block_size_does_not_change_the_cuts() -> None:
    audio = np.concatenate([read_consult()] * 2)
    reference = _cuts(list(windows(_blocks(audio))))
    assert _cuts(list(windows(_blocks(audio, 7_919)))) == reference


@pytest.mark.parametrize("seconds", [0.5, 30.0, 60.0])
def test_up_to_a_minute_is_one_window_so_live_chunks_are_transcribed_whole(
    seconds: float,
) -> None:
    audio = read_consult()[: int(seconds * RATE)]
    parts = list(windows(_blocks(audio, 48_000)))
    assert len(parts) == 1 and np.array_equal(parts[0], audio)


def test_the_quietest_point_is_the_middle_of_the_pause() -> None:
    tone = np.sin(np.arange(10 * RATE) * 0.05).astype(np.float32) * 0.3
    tone[6 * RATE : 7 * RATE] = 0.0  # one second of silence from 6 to 7 s
    cut = quietest_point(tone, 2 * RATE, 9 * RATE)
    assert abs(cut - int(6.5 * RATE)) <= RATE // 10
    with pytest.raises(ValueError):
        quietest_point(tone, 5 * RATE, 5 * RATE)


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate"), [("OGG", "VORBIS", 16000), ("MP3", None, 44100)]
)
def test_streamed_decode_gives_faster_whispers_samples(
    tmp_path: Path, fmt: str, subtype: str | None, rate: int
) -> None:
    import soundfile as sf

    clip = read_consult()[: 40 * RATE]
    path = tmp_path / f"clip.{fmt.lower()}"
    if rate == RATE:
        write_ogg(path, clip)
    else:  # stereo at 44.1 kHz: resampled and mixed down on the way
        stretched = np.interp(np.arange(0, len(clip), RATE / rate), np.arange(len(clip)), clip)
        sf.write(path, np.stack([stretched, stretched * 0.5], axis=1), rate, format=fmt)
    audio = DecodedAudio(path)
    streamed = np.concatenate(list(audio))
    assert np.array_equal(streamed, decode_audio(str(path), sampling_rate=RATE))
    assert audio.samples == len(streamed) and abs(audio.seconds - 40.0) < 0.1


def test_the_length_cap_is_enforced_while_decoding(tmp_path: Path) -> None:
    path = write_ogg(tmp_path / "clip.ogg", read_consult()[: 40 * RATE])
    with pytest.raises(AudioTooLong, match="longer than"):
        for _ in DecodedAudio(path, max_seconds=20):
            pass
    not_audio = tmp_path / "x.ogg"
    not_audio.write_bytes(b"plain text, no audio\n" * 50)
    with pytest.raises(AudioRejected, match=r"not decodable|no audio"):
        list(DecodedAudio(not_audio))
