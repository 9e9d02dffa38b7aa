"""A microphone lost mid-consult: the recording stays open, reconnects, and marks the gap.

Real parts: a PulseAudio daemon of the test's own (killed = every stream on it dies, as when a
USB headset is pulled out; started again = the microphone is back), PortAudio, the spool on
disk. The sound played after the restart must be in the chunks after the gap, the audio from
before the loss in the chunks before it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from recorder.audio import MicrophoneSpec
from recorder.events import (
    AudioGap,
    CaptureProblem,
    ChunkRecorded,
    Event,
    SessionStateChanged,
)
from recorder.gaps import read_gaps, text_with_gaps
from recorder.session import ConsultMeta, RecordingSession, SessionOptions
from recorder.spool import Spool
from recorder.states import RecordingState, SessionState
from tests.fixtures.vmic import PulseDaemon, align, make_known_signal

pytestmark = pytest.mark.vmic

RATE = 16_000
Pcm = npt.NDArray[np.float32]


class Events:
    """A thread-safe EventSink that keeps everything, and can wait for one kind of event."""

    def __init__(self) -> None:
        self.items: list[Event] = []
        self._cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def of(self, kind: type) -> list[Any]:
        with self._cond:
            return [e for e in self.items if isinstance(e, kind)]

    def wait_for(self, test: Callable[[Event], bool], timeout: float = 30.0) -> Event:
        with self._cond:
            found: list[Event] = []

            def seen() -> bool:
                found[:] = [e for e in self.items if test(e)]
                return bool(found)

            assert self._cond.wait_for(seen, timeout), "the expected event never came"
            return found[0]


def _problem(kind: str) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, CaptureProblem) and e.kind == kind


def _tone(path: Path, hz: float, seconds: float = 1.5) -> Pcm:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    sf.write(path, tone, RATE, subtype="PCM_16")
    return tone


def _audio(spool: Spool, rid: str, indices: list[int]) -> Pcm:
    parts = [spool.read_chunk_pcm(rid, i) for i in indices]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _hz_strength(pcm: Pcm, hz: float) -> float:
    """How much of `pcm`'s energy sits at `hz` (0..1), over its loudest second."""
    if len(pcm) < RATE:
        return 0.0
    loudest = max(
        range(0, len(pcm) - RATE + 1, RATE // 4), key=lambda s: np.abs(pcm[s : s + RATE]).max()
    )
    window = pcm[loudest : loudest + RATE].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(window)) ** 2
    band = spectrum[int(hz) - 5 : int(hz) + 6].sum()
    return float(band / (spectrum.sum() or 1.0))


def _wait_recorded(session: RecordingSession, seconds: float, timeout: float = 20.0) -> None:
    give_up = time.monotonic() + timeout
    while session.elapsed_s < seconds:
        assert time.monotonic() < give_up, "the virtual microphone delivered too little audio"
        time.sleep(0.05)


def _session(spool: Spool, events: Events, limit_s: float = 120.0) -> RecordingSession:
    return RecordingSession(
        spool,
        MicrophoneSpec("pulse"),
        ConsultMeta(True),
        events,
        options=SessionOptions(reconnect_limit_s=limit_s),
    )


def test_recording_carries_on_after_the_sound_server_comes_back(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    _tone(tmp_path / "before.wav", 440)
    after = make_known_signal(tmp_path / "after.wav", "The pain started on Monday morning.")
    events = Events()
    spool = Spool.open(tmp_path / "spool")
    session = _session(spool, events)
    rid = session.start()
    _wait_recorded(session, 0.5)
    private_pulse.play(tmp_path / "before.wav").wait(30)  # heard before the loss
    _wait_recorded(session, session.elapsed_s + 1.0)
    at_loss = session.elapsed_s

    private_pulse.kill()  # the headset is pulled out
    events.wait_for(_problem("input_lost"))
    assert session.input_lost
    assert session.state is SessionState.RECORDING  # the recording is still open
    # the audio before the loss was committed at once: it can upload while the mic is away
    cut = events.of(ChunkRecorded)
    assert cut and sum(e.duration_s for e in cut) == pytest.approx(session.elapsed_s, abs=1e-3)
    down_from = time.monotonic()
    time.sleep(2.0)
    # Measured before the restart: once it starts, the reopened input may deliver at any time.
    down_for = time.monotonic() - down_from
    private_pulse.start()  # ... and plugged back in
    private_pulse.keep_warm()

    gap = events.wait_for(lambda e: isinstance(e, AudioGap), timeout=60)
    assert isinstance(gap, AudioGap)
    assert not session.input_lost
    events.wait_for(_problem("input_back"))
    resumed_at = session.elapsed_s
    player = private_pulse.play(tmp_path / "after.wav")
    player.wait(30)
    _wait_recorded(session, resumed_at + len(after) / RATE + 0.5)
    session.stop()
    assert session.wait(30)

    states = [e.state for e in events.of(SessionStateChanged)]
    assert states == [SessionState.RECORDING, SessionState.FINISHING, SessionState.DONE]
    assert spool.recording(rid).state is RecordingState.RECORDED
    chunks = spool.chunks(rid)
    assert [c.index for c in chunks] == list(range(len(chunks)))  # one recording, no hole
    assert sum(c.frames for c in chunks) == session.frames_recorded
    # the gap: where it falls, how long, kept in the spool, and the words shown for it
    assert gap.before_chunk == len(cut)
    assert gap.at_s == pytest.approx(at_loss, abs=1.0)
    assert gap.duration_s >= down_for  # the server was away at least this long
    assert gap.marker().startswith("[no audio for ") and "microphone lost" in gap.marker()
    assert read_gaps(spool, rid) == [gap] == session.gaps
    paragraphs = text_with_gaps({c.index: f"chunk {c.index}" for c in chunks}, [gap])
    assert paragraphs.split("\n\n").index(gap.marker()) == gap.before_chunk  # where it fell
    # nothing before the loss was lost: the tone is in the chunks before the gap ...
    earlier = _audio(spool, rid, [c.index for c in chunks if c.index < gap.before_chunk])
    assert len(earlier) == round(gap.at_s * RATE)
    assert _hz_strength(earlier, 440) > 0.5
    # ... and what was said after the microphone came back is in the chunks after it
    later = _audio(spool, rid, [c.index for c in chunks if c.index >= gap.before_chunk])
    _offset, correlation, _err = align(after, later)
    assert correlation > 0.9  # Vorbis is lossy; a wrong place correlates near 0
    assert _hz_strength(later, 440) < 0.1 < _hz_strength(earlier, 440)
    spool.close()


def test_a_microphone_that_never_comes_back_ends_the_recording_with_every_chunk_kept(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    events = Events()
    spool = Spool.open(tmp_path)
    session = _session(spool, events, limit_s=3.0)
    rid = session.start()
    _wait_recorded(session, 1.0)
    private_pulse.kill()
    assert session.wait(60)
    assert session.state is SessionState.FAILED
    failed = events.of(SessionStateChanged)[-1]
    assert failed.reason is not None and "did not come back" in failed.reason
    assert spool.recording(rid).state is RecordingState.RECORDED
    chunks = spool.chunks(rid)
    assert chunks and sum(c.frames for c in chunks) == session.frames_recorded
    assert session.frames_recorded >= RATE
    [gap] = read_gaps(spool, rid)
    assert gap.before_chunk == len(chunks)  # at the end: no audio came after it
    assert text_with_gaps({c.index: "said" for c in chunks}, [gap]).endswith(
        f"said\n\n{gap.marker()}"
    )
    assert gap.duration_s >= 3.0 - 0.5  # waited for the limit (counted from the last audio)
    assert any(
        "ended before the microphone came back" in p.message for p in events.of(CaptureProblem)
    )
    spool.close()


def test_pause_resume_and_stop_while_reconnecting(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    events = Events()
    spool = Spool.open(tmp_path)
    session = _session(spool, events)
    began = time.monotonic()  # the gap cannot start before this
    rid = session.start()
    _wait_recorded(session, 1.0)
    private_pulse.kill()
    events.wait_for(_problem("input_lost"))
    [open_gap] = read_gaps(spool, rid)  # kept at once: a crash while waiting still shows it
    assert open_gap.before_chunk == len(spool.chunks(rid))
    session.pause()
    assert session.state is SessionState.PAUSED
    paused_from = time.monotonic()
    time.sleep(3.0)  # paused while lost: none of this would have been recorded anyway
    paused_for = time.monotonic() - paused_from  # the session was paused at least this long
    session.resume()
    assert session.state is SessionState.RECORDING
    session.stop()
    assert session.wait(30)
    lost_at_most = time.monotonic() - began
    states = [e.state for e in events.of(SessionStateChanged)]
    assert states == [
        SessionState.RECORDING,
        SessionState.PAUSED,
        SessionState.RECORDING,
        SessionState.FINISHING,
        SessionState.DONE,
    ]
    chunks = spool.chunks(rid)
    assert chunks and sum(c.frames for c in chunks) == session.frames_recorded
    [gap] = read_gaps(spool, rid)  # the same gap, now as long as it lasted
    assert gap.before_chunk == len(chunks) and gap.started_at == open_gap.started_at
    assert gap.duration_s >= open_gap.duration_s
    assert gap.duration_s <= lost_at_most - paused_for  # the pause is not counted as missed
    spool.close()


def test_a_hung_sound_server_is_reopened_once_it_answers_again(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    """Stalled (no audio, stream still open) is treated like lost: closed, reopened, gap kept."""
    events = Events()
    spool = Spool.open(tmp_path)
    session = _session(spool, events)
    rid = session.start()
    _wait_recorded(session, 1.0)
    private_pulse.freeze()
    try:
        events.wait_for(_problem("input_lost"))
        lost_from = time.monotonic()  # no audio since before this moment
        time.sleep(1.0)
        silent_for = time.monotonic() - lost_from  # before the thaw: audio may follow at once
    finally:
        private_pulse.thaw()
    gap = events.wait_for(lambda e: isinstance(e, AudioGap), timeout=60)
    assert isinstance(gap, AudioGap)
    resumed_at = session.elapsed_s
    _wait_recorded(session, resumed_at + 1.0)
    session.stop()
    assert session.wait(30)
    assert session.state is SessionState.DONE
    assert any(p.kind == "stalled" for p in events.of(CaptureProblem))
    chunks = spool.chunks(rid)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert sum(c.frames for c in chunks) == session.frames_recorded
    assert chunks[-1].index >= gap.before_chunk  # audio was recorded after the gap
    assert gap.duration_s >= silent_for
    assert read_gaps(spool, rid) == [gap]
    spool.close()
