"""Reopening a lost input with real PortAudio: the named one, else the default; cancel is clean.

A PulseAudio daemon of the test's own stands in for the sound system; its `pulse` device is
the "microphone" that goes and comes back.
"""

from __future__ import annotations

import time

import pytest

from recorder.audio import Capture, MicrophoneSpec, Reopener
from recorder.audio.devices import resolve_input_device
from tests.fixtures.vmic import PulseDaemon

pytestmark = pytest.mark.vmic


def _open(spec: MicrophoneSpec) -> Capture:
    return Capture(spec)


def _taken(reopener: Reopener, timeout_s: float = 30.0) -> Capture:
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        capture = reopener.take()
        if capture is not None:
            return capture
        time.sleep(0.05)
    raise AssertionError(f"nothing reopened; last error: {reopener.last_error}")


def _tried(reopener: Reopener, timeout_s: float = 30.0) -> None:
    """Wait for a first attempt to open (its PortAudio rescan first can be slow under load)."""
    give_up = time.monotonic() + timeout_s
    while reopener.attempts < 1:
        assert time.monotonic() < give_up, "the reopener never tried"
        time.sleep(0.05)


def _delivers(capture: Capture) -> bool:
    give_up = time.monotonic() + 10
    while time.monotonic() < give_up:
        capture.read(0.1)
        if capture.stats.frames_captured:
            return True
    return False


def test_a_named_input_that_is_gone_falls_back_to_the_default(
    private_pulse: PulseDaemon,
) -> None:
    reopener = Reopener(MicrophoneSpec("headset that was unplugged"), _open, prefer_named_s=0.5)
    reopener.start()
    capture = _taken(reopener)
    try:
        assert capture.spec == MicrophoneSpec(None)
        assert capture.device_name == resolve_input_device(None).name
        assert reopener.attempts >= 2  # the named one was tried (and missing) first
        assert "headset that was unplugged" in (reopener.last_error or "")
        assert _delivers(capture)
    finally:
        reopener.cancel()
        capture.stop()


def test_the_sound_server_coming_back_is_found_after_a_rescan(
    private_pulse: PulseDaemon,
) -> None:
    private_pulse.kill()
    reopener = Reopener(MicrophoneSpec("pulse"), _open, prefer_named_s=3600)
    reopener.start()
    try:
        _tried(reopener)
        assert reopener.take() is None  # nothing to open while the server is down
        private_pulse.start()
        private_pulse.keep_warm()
        capture = _taken(reopener)
        try:
            assert capture.spec == MicrophoneSpec("pulse")
            assert _delivers(capture)
        finally:
            capture.stop()
    finally:
        reopener.cancel()


def test_cancel_stops_trying(private_pulse: PulseDaemon) -> None:
    private_pulse.kill()
    reopener = Reopener(MicrophoneSpec("pulse"), _open, delays_s=(0.1,), prefer_named_s=3600)
    reopener.start()
    _tried(reopener)
    reopener.cancel()
    tried = reopener.attempts
    time.sleep(1.0)
    assert reopener.attempts <= tried + 1  # at most the attempt under way when cancelled
    assert reopener.take() is None
