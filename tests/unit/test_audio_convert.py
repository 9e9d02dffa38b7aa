"""Level meter, mixdown/resampling and source specs (pure numpy and soxr, no device)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recorder.audio import FileSpec, MicrophoneSpec
from recorder.audio.level import SILENCE_DBFS, LevelMeter, rms_dbfs
from recorder.audio.microphone import _candidate_settings
from recorder.audio.resample import MonoResampler


def _sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_level_meter_peak_and_rms_then_resets() -> None:
    meter = LevelMeter()
    tone = _sine(1000, 16_000, 1.0)[:, None]
    meter.update(tone[:8000])
    meter.update(-tone[8000:])
    peak, rms = meter.take()
    assert peak == pytest.approx(0.5, abs=1e-3)
    assert rms == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)  # -9.03 dBFS
    assert meter.take() == (0.0, SILENCE_DBFS)
    assert meter.max_peak == pytest.approx(0.5, abs=1e-3)


def test_level_meter_ignores_empty_blocks_and_clamps_the_peak() -> None:
    meter = LevelMeter()
    meter.update(np.zeros((0, 2), np.float32))
    meter.update(np.full((4, 2), 1.5, np.float32))  # a float file may exceed full scale
    assert meter.take()[0] == 1.0
    assert rms_dbfs(0.0, 10) == SILENCE_DBFS
    assert rms_dbfs(1.0, 0) == SILENCE_DBFS


def test_same_rate_mono_passes_through_unchanged() -> None:
    resampler = MonoResampler(16_000, 1, 16_000)
    block = np.random.default_rng(0).uniform(-1, 1, (1234, 1)).astype(np.float32)
    out = resampler.process(block)
    assert out.dtype == np.float32 and np.array_equal(out, block[:, 0])
    assert resampler.process(np.zeros((0, 1), np.float32), last=True).size == 0


def test_streamed_resampling_matches_one_shot_and_keeps_the_length() -> None:
    rate = 48_000
    stereo = np.stack([_sine(440, rate, 2.0), _sine(440, rate, 2.0, amp=0.1)], axis=1)
    resampler = MonoResampler(rate, 2, 16_000)
    blocks = [resampler.process(stereo[i : i + 2400]) for i in range(0, len(stereo), 2400)]
    blocks.append(resampler.process(np.zeros((0, 2), np.float32), last=True))
    out = np.concatenate(blocks)
    assert len(out) == 32_000
    middle = out[2000:-2000]
    assert np.max(np.abs(middle)) == pytest.approx(0.3, abs=0.005)  # mean of 0.5 and 0.1
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    assert abs(np.argmax(spectrum) * 16_000 / len(middle) - 440) < 2
    # A second flush adds nothing.
    assert resampler.process(np.zeros((0, 2), np.float32), last=True).size == 0


def test_open_settings_prefer_16k_mono_then_the_device_default() -> None:
    assert _candidate_settings(MicrophoneSpec(), 44_100.0, 2, 16_000) == [
        (16_000, 1),
        (44_100, 1),
        (44_100, 2),
    ]
    assert _candidate_settings(MicrophoneSpec(), 48_000.0, 8, 16_000)[-1] == (48_000, 8)
    forced = MicrophoneSpec(device_rate=48_000, channels=2)
    assert _candidate_settings(forced, 44_100.0, 2, 16_000) == [(48_000, 2)]


def test_specs_validate_their_values() -> None:
    assert FileSpec("a.wav").path == Path("a.wav")  # str accepted
    for bad in (-0.5, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="speed"):
            FileSpec(Path("a.wav"), speed=bad)
    with pytest.raises(ValueError, match="device_rate"):
        MicrophoneSpec(device_rate=0)
    with pytest.raises(ValueError, match="channels"):
        MicrophoneSpec(channels=-1)
