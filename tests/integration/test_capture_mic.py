"""Real PortAudio capture through the PulseAudio virtual microphone (no mock anywhere).

A known signal (espeak-ng speech + chirp) is played into a private null sink while Capture
records the `pulse` device; the captured samples must reproduce the file.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
import soxr

from recorder.audio import Capture, MicrophoneSpec
from recorder.events import CaptureProblem
from tests.fixtures.vmic import PrivateMic, align, make_known_signal

pytestmark = pytest.mark.vmic

Pcm = npt.NDArray[np.float32]


@pytest.fixture(scope="module")
def known_signal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pcm]:
    path = tmp_path_factory.mktemp("signal") / "known.wav"
    return path, make_known_signal(path)


def _wait_first_audio(cap: Capture, sink: list[Pcm], limit_s: float = 10.0) -> None:
    """PulseAudio can take ~2 s to deliver the first block; play only once audio flows."""
    give_up = time.monotonic() + limit_s
    while cap.stats.frames_captured == 0 and time.monotonic() < give_up:
        sink.append(cap.read(0.05))
    assert cap.stats.frames_captured > 0, "the virtual microphone delivered nothing"


def _record_while_playing(
    cap: Capture, mic: PrivateMic, path: Path
) -> tuple[Pcm, list[CaptureProblem]]:
    """Capture while `path` plays, until its length plus a margin has been heard since it began.

    paplay itself exits only after the null sink's ~2 s drain, so it is not waited for. It
    began with the first sound (the idle null sink gives exact zeros): paplay may take a while
    to start on a loaded machine, and counting from the capture's start cut its end off.
    """
    info = sf.info(path)
    wanted = int(info.frames / info.samplerate * cap.target_rate) + int(0.8 * cap.target_rate)
    parts: list[Pcm] = []
    problems: list[CaptureProblem] = []
    cap.start()
    try:
        _wait_first_audio(cap, parts)
        player = mic.play(path)
        heard: int | None = None  # frames since the first sound
        give_up = time.monotonic() + 30
        while (heard is None or heard < wanted) and time.monotonic() < give_up:
            block = cap.read(0.1)
            parts.append(block)
            if heard is not None:
                heard += len(block)
            elif np.any(block):
                heard = len(block) - int(np.flatnonzero(block)[0])
            problems += cap.problems()
            assert player.poll() in (None, 0), player.stderr.read() if player.stderr else ""
        player.terminate()
        player.wait()
    finally:
        cap.stop()
    while not cap.finished:
        parts.append(cap.read(0.1))
    problems += cap.problems()
    return np.concatenate(parts), problems


def test_capture_at_16k_mono_reproduces_the_played_file(
    private_vmic: PrivateMic, known_signal: tuple[Path, Pcm]
) -> None:
    path, reference = known_signal
    cap = Capture(MicrophoneSpec(private_vmic.device))
    captured, problems = _record_while_playing(cap, private_vmic, path)

    stats = cap.stats
    assert (stats.device_rate, stats.channels) == (16_000, 1)  # the direct path: no resampling
    offset, correlation, max_error = align(reference, captured)
    assert offset + len(reference) <= len(captured), "the end of the played file is missing"
    assert correlation > 0.9999
    assert max_error <= 2 / 32768  # s16 quantisation, nothing more
    assert stats.frames_delivered == len(captured) == stats.frames_captured
    assert stats.dropped_frames == 0
    assert not [p for p in problems if p.kind != "overflow"]
    assert 0.45 < stats.peak <= 1.0  # the chirp is at 0.5


def test_capture_at_48k_stereo_is_mixed_down_and_resampled_to_16k_mono(
    private_vmic_48k_stereo: PrivateMic, known_signal: tuple[Path, Pcm], tmp_path: Path
) -> None:
    _, reference = known_signal
    # Left: the signal; right: half of it. The mixdown must give 0.75 x the signal.
    upsampled = soxr.resample(reference, 16_000, 48_000).astype(np.float32)
    played = tmp_path / "stereo48k.wav"
    sf.write(played, np.stack([upsampled, 0.5 * upsampled], axis=1), 48_000, subtype="FLOAT")
    cap = Capture(MicrophoneSpec(private_vmic_48k_stereo.device, device_rate=48_000, channels=2))
    captured, _ = _record_while_playing(cap, private_vmic_48k_stereo, played)

    stats = cap.stats
    assert (stats.device_rate, stats.channels) == (48_000, 2)
    # Every device frame became a third of a target frame (soxr's tail is flushed at the end).
    assert abs(stats.frames_delivered - stats.frames_captured / 3) <= 2
    # The capture starts at an arbitrary 48 kHz frame, i.e. a third of a 16 kHz sample off
    # the reference's grid: compare against the mixdown resampled from each of the 3 phases.
    candidates = [
        soxr.resample(0.75 * upsampled[phase:], 48_000, 16_000).astype(np.float32)
        for phase in range(3)
    ]
    found = [(align(c, captured), c) for c in candidates]
    (offset, correlation, max_error), expected = max(found, key=lambda item: item[0][1])
    assert offset + len(expected) <= len(captured)
    residual = captured[offset : offset + len(expected)] - expected
    snr_db = 10 * np.log10(np.sum(expected.astype(np.float64) ** 2) / np.sum(residual**2.0))
    gain = float(
        np.dot(captured[offset : offset + len(expected)], expected) / np.dot(expected, expected)
    )
    print(
        f"48k stereo path: correlation {correlation:.6f}, SNR {snr_db:.1f} dB, "
        f"gain {gain:.4f}, max error {max_error:.5f}"
    )
    assert correlation > 0.999
    assert snr_db > 60  # the same conversion done offline, modulo s16 in PulseAudio
    assert max_error < 1e-3
    assert abs(gain - 1.0) < 0.01  # the mixdown is the mean of the channels


def test_level_reports_peak_and_rms_of_the_input(private_vmic: PrivateMic, tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    t = np.arange(8000) / 16_000
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), 16_000, subtype="PCM_16")  # -9 dBFS RMS
    cap = Capture(MicrophoneSpec(private_vmic.device))
    cap.start()
    try:
        _wait_first_audio(cap, [])
        cap.read(0.2)
        silent_peak, silent_rms = cap.level()
        player = private_vmic.play(path)
        assert player.wait(timeout=30) == 0
        cap.read(0.1)
        loud_peak, loud_rms = cap.level()
    finally:
        cap.stop()
    assert silent_peak == 0.0 and silent_rms <= -100
    assert 0.45 < loud_peak <= 0.55
    assert -20 < loud_rms < -8.5  # the tone's -9 dBFS, diluted by the silence around it


def test_a_reader_that_falls_behind_gets_dropped_frames_counted_and_reported(
    private_vmic: PrivateMic,
) -> None:
    cap = Capture(MicrophoneSpec(private_vmic.device), ring_seconds=0.2)
    early: list[Pcm] = []
    cap.start()
    try:
        _wait_first_audio(cap, early)
        give_up = time.monotonic() + 30
        while not cap.stats.dropped_frames:  # the reader stops reading: the 0.2 s ring overruns
            assert time.monotonic() < give_up, "the ring never overran"
            time.sleep(0.05)
    finally:
        cap.stop()
    problems = cap.problems()
    dropped = cap.stats.dropped_frames
    assert dropped > 0
    overruns = [p for p in problems if p.kind == "overflow" and "dropped" in p.message]
    assert overruns and sum(p.count for p in overruns) == dropped
    kept = sum(len(block) for block in early)
    while not cap.finished:
        kept += len(cap.read(0.1))
    assert kept == cap.stats.frames_captured  # what the ring held is still delivered
