"""Audio dropped while recording becomes a gap in the recording, where it happened: never silent.

Real parts: PortAudio through a PulseAudio daemon of the test's own, the spool on disk. Two
real losses, made as in test_capture_overflow: a recording process frozen (SIGSTOP) while it
records 96 kHz x 8 channels, so PulseAudio drops the newest audio unflagged; and a session
whose writer thread stalls, so its own ring overflows. The truth comes from the recorded
chunks themselves: where the decoded recording jumps ahead in the played noise, and by how
much. The gap kept in gaps.json must match it, sit in (or after) the right chunk, and its
marker must follow that chunk's paragraph in the transcript.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from recorder.audio import MicrophoneSpec
from recorder.audio.losses import INPUT_OVERFLOW, INPUT_TIMING, RING_FULL
from recorder.dropped_audio import BOUNDARY_S
from recorder.events import AudioGap, CaptureProblem, ElapsedChanged, Event, LevelChanged
from recorder.gaps import read_gaps, text_with_gaps
from recorder.session import ConsultMeta, RecordingSession, SessionOptions
from recorder.spool import ChunkRow, Spool
from recorder.states import SessionState
from tests.fixtures.vmic import PulseDaemon
from tests.integration.test_capture_overflow import (
    PLACED_LATE_BY_AT_MOST_S,
    RATE,
    _cuts,
    _exact_cut,
    _noise,
    _shifts,
    freeze_while_noise_plays,
)

pytestmark = pytest.mark.vmic

Pcm = npt.NDArray[np.float32]
CHILD = [sys.executable, "-m", "tests.integration.test_session_losses_child"]


def _recorded(spool: Spool, rid: str) -> tuple[Pcm, list[ChunkRow]]:
    chunks = spool.chunks(rid)
    pcm = np.concatenate([spool.read_chunk_pcm(rid, c.index) for c in chunks])
    return pcm, chunks


def _assert_placed(gap: AudioGap, chunks: list[ChunkRow]) -> None:
    """The gap names the chunk holding its place, and the transcript shows it right after."""
    at = round(gap.at_s * RATE)
    if gap.within_chunk is None:  # at a cut: between the chunk before and the one after
        [start] = [c.start_frame for c in chunks if c.index == gap.before_chunk]
        assert abs(at - start) <= BOUNDARY_S * RATE
    else:
        [holder] = [c for c in chunks if c.index == gap.within_chunk]
        assert holder.start_frame <= at < holder.start_frame + holder.frames
        assert gap.before_chunk == gap.within_chunk + 1
        assert "in the passage above" in gap.marker()
    paragraphs = text_with_gaps({c.index: f"chunk {c.index}" for c in chunks}, [gap]).split("\n\n")
    assert paragraphs.index(gap.marker()) == gap.before_chunk  # right after chunk before_chunk-1


@pytest.mark.parametrize(
    "stop_after_s",
    [
        3.0,  # the loss is measured (~2 s after the stall) while recording
        1.0,  # Stop comes first: the drained capture reports it as far as it was measured
    ],
)
def test_audio_the_sound_server_drops_is_a_gap_where_it_fell(
    private_pulse: PulseDaemon, tmp_path: Path, stop_after_s: float
) -> None:
    data = tmp_path / "data"
    reference, printed = freeze_while_noise_plays(
        private_pulse, tmp_path, CHILD, data, seed=5, stop_after_s=stop_after_s
    )
    assert printed.split() == ["done"]  # the recording was closed before the child exited

    spool = Spool.open(data)
    [recording] = spool.recordings()
    rid = recording.recording_id
    recorded, chunks = _recorded(spool, rid)
    gaps = read_gaps(spool, rid)
    spool.close()

    # Vorbis and the 96 kHz grid's new phase after the cut: looser matching than raw capture.
    cuts = _cuts(_shifts(reference, recorded, min_corr=0.5), slack=2)
    true_lost_s = sum(jump for _, jump, _ in cuts) / RATE
    true_at_s = [_exact_cut(reference, recorded, *cut) / RATE for cut in cuts]
    print(f"truth: {true_lost_s:.3f} s lost at {true_at_s} s of the recording; gaps: {gaps}")
    assert true_lost_s > 0.3, "the sound server did not drop audio: the setup is broken"
    assert true_at_s[-1] - true_at_s[0] < 1.0, f"more than one stall lost audio: {cuts}"

    assert gaps, "audio was dropped and the recording does not say so"
    assert {g.cause for g in gaps} <= {INPUT_TIMING, INPUT_OVERFLOW}
    marked_s = sum(g.duration_s for g in gaps)
    if stop_after_s >= 3.0:
        assert abs(marked_s - true_lost_s) < 0.1  # as test_capture_overflow measures it
    else:  # cut short by Stop: still marked, on the low side (the clock had not settled)
        assert 0.1 < marked_s < true_lost_s + 0.1
    for gap in gaps:
        # Placed by the capture's estimate (at the cut or up to PLACED_LATE_BY_AT_MOST_S after
        # it, test_capture_overflow), then mapped onto the recording exactly.
        assert true_at_s[0] - 0.15 <= gap.at_s <= true_at_s[-1] + PLACED_LATE_BY_AT_MOST_S
        assert "computer was too busy" in gap.marker()
        _assert_placed(gap, chunks)


class StallingSink:
    """Keeps every event; when armed, holds up the writer thread once on an event of a kind."""

    def __init__(self) -> None:
        self.items: list[Event] = []
        self.stall_on: type | None = None
        self.stall_s = 0.0
        self.stalled = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.items.append(event)
        if self.stall_on is not None and isinstance(event, self.stall_on):
            self.stall_on = None
            time.sleep(self.stall_s)  # the session reads nothing meanwhile: its ring fills
            self.stalled.set()

    def of(self, kind: type) -> list[Event]:
        with self._lock:
            return [e for e in self.items if isinstance(e, kind)]

    def stall(self, on: type, seconds: float) -> None:
        self.stall_s = seconds
        self.stall_on = on
        assert self.stalled.wait(30), "the writer thread never stalled"


def _wait_recorded(session: RecordingSession, seconds: float) -> None:
    give_up = time.monotonic() + 20
    while session.elapsed_s < seconds:
        assert time.monotonic() < give_up, "the virtual microphone delivered too little audio"
        time.sleep(0.05)


def _ring_session(spool: Spool, sink: StallingSink) -> RecordingSession:
    options = SessionOptions(chunk_min_s=2.0, chunk_max_s=3.0)
    # 1 s: a shared, loaded machine (a server transcribing for another test) must not overflow
    # it by itself; only the deliberate stall below does.
    options.capture_options = {"ring_seconds": 1.0}
    return RecordingSession(
        spool, MicrophoneSpec("pulse"), ConsultMeta(True), sink, options=options
    )


def test_a_session_that_falls_behind_marks_exactly_what_its_ring_dropped(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    reference = _noise(tmp_path / "noise.wav", 10.0, seed=13)
    sink = StallingSink()
    spool = Spool.open(tmp_path / "data")
    session = _ring_session(spool, sink)
    rid = session.start()
    _wait_recorded(session, 0.5)
    player = private_pulse.play(tmp_path / "noise.wav")
    _wait_recorded(session, session.elapsed_s + 2.5)
    sink.stall(ElapsedChanged, 2.5)  # 1 s ring, 2.5 s not read: about 1.5 s is dropped
    _wait_recorded(session, session.elapsed_s + 2.0)
    session.stop()
    assert session.wait(30)
    player.kill()
    player.wait()
    assert session.state is SessionState.DONE

    recorded, chunks = _recorded(spool, rid)
    cuts = _cuts(_shifts(reference, recorded, min_corr=0.5), slack=2)
    print(f"audio skips ahead (shift, frames, where): {cuts}")
    # A step of a few samples is not a loss: Vorbis is lossy and the match loose.
    [(before, jump, cut_at)] = [cut for cut in cuts if cut[1] > RATE // 100]
    cut = _exact_cut(reference, recorded, before, jump, cut_at)
    [gap] = read_gaps(spool, rid)
    print(f"truth: {jump} frames dropped at {cut}; gap: {gap}")
    assert jump > 0.5 * RATE, "the ring did not overflow: the setup is broken"
    assert gap.cause == RING_FULL and gap in session.gaps and gap in sink.of(AudioGap)
    assert gap.duration_s * RATE == pytest.approx(jump, abs=2)  # exact, up to resampling
    assert abs(gap.at_s * RATE - cut) <= RATE // 50  # exact, as found to 10 ms in the audio
    assert "recorder fell behind" in gap.marker()
    _assert_placed(gap, chunks)
    said = [p for p in sink.of(CaptureProblem) if isinstance(p, CaptureProblem)]
    assert any(p.kind == "overflow" for p in said)
    spool.close()


def test_audio_dropped_while_paused_is_said_but_not_marked_as_missing(
    private_pulse: PulseDaemon, tmp_path: Path
) -> None:
    sink = StallingSink()
    spool = Spool.open(tmp_path / "data")
    session = _ring_session(spool, sink)
    rid = session.start()
    _wait_recorded(session, 1.0)
    session.pause()
    time.sleep(0.5)
    sink.stall(LevelChanged, 2.5)  # while paused only the level meter is reported
    time.sleep(1.0)  # the drop lies well inside the pause
    session.resume()
    _wait_recorded(session, session.elapsed_s + 1.0)
    session.stop()
    assert session.wait(30)

    said = [p for p in sink.of(CaptureProblem) if isinstance(p, CaptureProblem)]
    overflows = [p for p in said if p.kind == "overflow"]
    assert overflows and sum(p.count for p in overflows) > 0.5 * RATE  # it was dropped ...
    assert read_gaps(spool, rid) == [] == session.gaps  # ... but nothing recorded is missing
    spool.close()
