"""The recording session over real sources: pause/resume, the virtual microphone, a lost device.

Real parts: the spool on disk (SQLite + encrypted files), the file source and
the PulseAudio virtual microphone through PortAudio.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from recorder.audio import FileSpec, MicrophoneSpec
from recorder.events import (
    CaptureProblem,
    ChunkRecorded,
    Event,
    LevelChanged,
    SessionStateChanged,
)
from recorder.session import ConsultMeta, RecordingSession, SessionOptions
from recorder.spool import Spool
from recorder.states import RecordingState, SessionState
from tests.cli_helpers import SAMPLE
from tests.fixtures.vmic import align


class Events:
    """A thread-safe EventSink that keeps everything for the assertions."""

    def __init__(self) -> None:
        self.items: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.items.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [e for e in self.items if isinstance(e, kind)]


def _decoded(spool: Spool, rid: str) -> np.ndarray:
    return np.concatenate([spool.read_chunk_pcm(rid, c.index) for c in spool.chunks(rid)])


def test_pause_drops_audio_resume_continues_stop_flushes(tmp_path: Path) -> None:
    events = Events()
    spool = Spool.open(tmp_path)
    session = RecordingSession(spool, FileSpec(SAMPLE, speed=10), ConsultMeta(True), events)
    rid = session.start()
    time.sleep(1.5)
    session.pause()
    assert session.state is SessionState.PAUSED
    time.sleep(1.5)  # ~15 s of audio goes by unrecorded
    session.resume()
    time.sleep(1.0)
    session.stop()
    assert session.wait(30)
    states = [e.state for e in events.of(SessionStateChanged)]
    assert states == [
        SessionState.RECORDING,
        SessionState.PAUSED,
        SessionState.RECORDING,
        SessionState.FINISHING,
        SessionState.DONE,
    ]
    assert spool.recording(rid).state is RecordingState.RECORDED
    recorded = _decoded(spool, rid)
    assert len(recorded) == session.frames_recorded
    original, _ = sf.read(str(SAMPLE), dtype="float32")
    # the recording starts as the file does, and after the pause continues from a later point
    head = min(8000, len(recorded))
    assert np.corrcoef(recorded[:head], original[:head])[0, 1] > 0.95
    # Its last 2 s (after the resume: ~10 s were recorded then) are found in the file further on
    # than the recording's length: the audio played while paused (~15 s) was dropped. Found in
    # the audio, not from the sleeps: a slow machine records more or less than 10x the sleeps.
    tail = recorded[-2 * 16_000 :]
    where, correlation, _ = align(tail, original)
    assert correlation > 0.9  # Vorbis is lossy; a wrong place correlates near 0
    dropped_s = (where + len(tail) - len(recorded)) / 16_000
    assert dropped_s > 1.0, dropped_s
    chunk_events = events.of(ChunkRecorded)
    assert [e.index for e in chunk_events] == [c.index for c in spool.chunks(rid)]
    spool.close()


def test_duration_limit_and_chunk_bounds(tmp_path: Path) -> None:
    events = Events()
    spool = Spool.open(tmp_path)
    options = SessionOptions(chunk_min_s=45, chunk_max_s=50, duration_s=130)
    session = RecordingSession(
        spool, FileSpec(SAMPLE, speed=0), ConsultMeta(True), events, options=options
    )
    rid = session.start()
    assert session.wait(60)
    chunks = spool.chunks(rid)
    assert sum(c.frames for c in chunks) == 130 * 16_000
    assert all(45 <= c.duration_s <= 50 for c in chunks[:-1])
    spool.close()


def test_records_from_the_virtual_microphone(tmp_path: Path, private_vmic: Any) -> None:
    events = Events()
    spool = Spool.open(tmp_path)
    clip = tmp_path / "clip.wav"
    audio, rate = sf.read(str(SAMPLE), dtype="float32", frames=16_000 * 4)
    sf.write(str(clip), audio, rate)
    session = RecordingSession(
        spool,
        MicrophoneSpec("pulse"),
        ConsultMeta(True),
        events,
        options=SessionOptions(duration_s=5.5),
    )
    rid = session.start()
    player = private_vmic.play(clip)
    player.wait(30)
    assert session.wait(30)
    recorded = _decoded(spool, rid)
    assert abs(len(recorded) - 5.5 * 16_000) <= 1
    levels = events.of(LevelChanged)
    assert max(e.peak for e in levels) > 0.1  # speech was heard, not silence
    # the clip is somewhere in the capture: find it by cross-correlation
    speech = audio[16_000:32_000]
    corr = np.correlate(recorded, speech, mode="valid")
    offset = int(np.argmax(corr))
    segment = recorded[offset : offset + 16_000]
    assert np.corrcoef(segment, speech)[0, 1] > 0.9  # Vorbis is lossy; a wrong offset is ~0
    spool.close()


def test_device_lost_keeps_what_was_recorded(tmp_path: Path, private_pulse: Any) -> None:
    """A device that does not come back within the limit ends the session (see also
    test_session_reconnect.py for one that does)."""
    events = Events()
    spool = Spool.open(tmp_path)
    session = RecordingSession(
        spool,
        MicrophoneSpec("pulse"),
        ConsultMeta(True),
        events,
        options=SessionOptions(reconnect_limit_s=1.0),
    )
    rid = session.start()
    time.sleep(3.0)
    private_pulse.kill()  # the input device disappears mid-consult, for good
    assert session.wait(30)
    assert session.state is SessionState.FAILED
    assert any(p.kind in ("device_lost", "stalled") for p in events.of(CaptureProblem))
    assert any(p.kind == "input_lost" for p in events.of(CaptureProblem))
    assert spool.recording(rid).state is RecordingState.RECORDED
    kept = sum(c.frames for c in spool.chunks(rid))
    assert kept == session.frames_recorded  # everything captured before the loss is in the spool
    assert kept >= 0.5 * 16_000  # PulseAudio starts delivering after its buffer fills (~1 s)
    spool.close()


def test_no_leftover_processes() -> None:
    """paplay processes started by earlier tests have ended (the fixture cleans up).

    Only this process's children count: other programs on the machine may play audio."""
    out = subprocess.run(
        ["pgrep", "-c", "-P", str(os.getpid()), "paplay"], capture_output=True, text=True
    )
    assert out.stdout.strip() in ("0", "")


def test_a_spool_that_fails_at_start_releases_the_input(tmp_path: Path) -> None:
    """If the recording cannot be created, the input is closed again, not left capturing."""
    from recorder.errors import SpoolError

    def feeders() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "file-source" and t.is_alive()}

    before = feeders()  # another test's may still be ending: only new ones count
    spool = Spool.open(tmp_path)
    spool.root.rmdir()
    spool.root.write_text("not a folder")  # a recording's folder cannot be made here
    session = RecordingSession(spool, FileSpec(SAMPLE, speed=1), ConsultMeta(True), Events())
    with pytest.raises(SpoolError):
        session.start()
    give_up = time.monotonic() + 10  # a feeder left running would play the file for 159 s
    while feeders() - before:
        assert time.monotonic() < give_up, "the input was left capturing"
        time.sleep(0.05)
    assert session.state is SessionState.IDLE
