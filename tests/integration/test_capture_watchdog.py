"""The watchdog, with real faults: the sound server killed (device lost) or frozen (stall)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from recorder.audio import Capture, MicrophoneSpec
from recorder.events import CaptureProblem
from tests.fixtures.vmic import PulseDaemon

pytestmark = pytest.mark.vmic

Pcm = npt.NDArray[np.float32]


def _flowing(cap: Capture, parts: list[Pcm]) -> None:
    give_up = time.monotonic() + 30
    while cap.stats.frames_captured == 0:
        assert time.monotonic() < give_up, "the virtual microphone delivered nothing"
        parts.append(cap.read(0.05))


def _until(cap: Capture, kind: str, parts: list[Pcm], limit_s: float = 30.0) -> CaptureProblem:
    give_up = time.monotonic() + limit_s
    while time.monotonic() < give_up:
        parts.append(cap.read(0.1))
        for problem in cap.problems():
            if problem.kind == kind:
                return problem
    raise AssertionError(f"no {kind!r} problem reported within {limit_s} s")


def _tone(path: Path, seconds: float = 1.0) -> None:
    t = np.arange(int(seconds * 16_000)) / 16_000
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), 16_000, subtype="PCM_16")


def test_killing_the_sound_server_reports_device_lost_and_keeps_the_audio(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    tone = tmp_path / "tone.wav"
    _tone(tone)
    cap = Capture(MicrophoneSpec("pulse"))
    parts: list[Pcm] = []
    cap.start()
    try:
        _flowing(cap, parts)
        player = private_pulse.play(tone)
        heard = time.monotonic() + 30
        while cap.level()[0] < 0.4:
            assert time.monotonic() < heard, "the tone never reached the capture"
            parts.append(cap.read(0.1))
        player.terminate()
        player.wait()
        private_pulse.kill()
        problem = _until(cap, "device_lost", parts)
    finally:
        cap.stop()  # must not hang on a dead server
    while not cap.finished:
        parts.append(cap.read(0.1))
    captured = np.concatenate(parts)
    assert "pulse" in problem.message and "kept" in problem.message
    assert len(captured) == cap.stats.frames_captured  # everything captured was delivered
    assert np.max(np.abs(captured)) > 0.45  # including the tone heard before the loss


def test_a_frozen_sound_server_is_reported_as_stalled_then_recovers(
    private_pulse: PulseDaemon,
) -> None:
    cap = Capture(MicrophoneSpec("pulse"), stall_after_s=0.5)
    parts: list[Pcm] = []
    cap.start()
    try:
        _flowing(cap, parts)
        private_pulse.freeze()
        try:
            problem = _until(cap, "stalled", parts)
            assert cap.stalled
        finally:
            private_pulse.thaw()
        before = cap.stats.frames_captured
        give_up = time.monotonic() + 30
        while cap.stats.frames_captured == before or cap.stalled:
            assert time.monotonic() < give_up, "audio never flowed again after the stall"
            parts.append(cap.read(0.1))
        assert [p for p in cap.problems() if p.kind == "device_lost"] == []
    finally:
        cap.stop()
    while not cap.finished:
        parts.append(cap.read(0.1))
    assert "delivered nothing" in problem.message
    assert sum(map(len, parts)) == cap.stats.frames_captured
