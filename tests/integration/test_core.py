"""AmbientCore, the façade the desktop app uses, against the real local server and a real spool."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from recorder.audio import FileSpec
from recorder.core import AmbientCore
from recorder.errors import RecorderError
from recorder.events import (
    ChunkRecorded,
    ConnectionChanged,
    ErrorOccurred,
    Event,
    RecordingStateChanged,
    TranscriptUpdated,
)
from recorder.session import ConsultMeta
from recorder.settings import Settings
from recorder.states import RecordingState, ServerStatus
from tests.cli_helpers import SAMPLE, start_record


class Events:
    def __init__(self) -> None:
        self.items: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 120) -> Event:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.items:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such event in {len(self.items)} events")
                self.cond.wait(left)

    def of(self, kind: type) -> list[Any]:
        with self.cond:
            return [e for e in self.items if isinstance(e, kind)]


@pytest.fixture
def heidi_env(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    return Settings(base_url=local_server.base_url, email="gp@practice.example", user_id="gp-1")


@pytest.fixture
def core_factory(tmp_path: Path) -> Iterator[Callable[..., tuple[AmbientCore, Events]]]:
    made: list[AmbientCore] = []

    def make(settings: Settings, data_dir: Path | None = None) -> tuple[AmbientCore, Events]:
        events = Events()
        core = AmbientCore(events, data_dir=data_dir or tmp_path / "data", settings=settings)
        made.append(core)
        core.start()
        assert core.wait_ready(30)
        return core, events

    yield make
    for core in made:
        core.shutdown()


def test_a_consult_through_the_core(core_factory: Any, heidi_env: Settings) -> None:
    core, events = core_factory(heidi_env)
    events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.mode == "heidi", 30)
    with pytest.raises(RecorderError, match="consent"):
        core.start_recording(FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=False))
    rid = core.start_recording(
        FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=True, patient_ref="EHR-1")
    )
    events.wait_for(
        lambda e: (
            isinstance(e, RecordingStateChanged)
            and e.recording_id == rid
            and e.state is RecordingState.DONE
        ),
        timeout=300,
    )
    final = [e for e in events.of(TranscriptUpdated) if e.final and e.recording_id == rid]
    assert final, "no final transcript"
    chunk_count = len(events.of(ChunkRecorded))
    assert [c.index for c in final[-1].chunks] == list(range(chunk_count))
    assert all(c.status is ServerStatus.READY for c in final[-1].chunks)
    assert "morning" in core.transcript_text(rid).lower()
    assert core.pending_uploads() == 0
    assert core.unfinished_recordings() == []


def test_interrupted_recording_is_offered_then_uploaded(
    tmp_path: Path, core_factory: Any, heidi_env: Settings
) -> None:
    data = tmp_path / "data"
    # a recording that a kill -9 left behind, made by a real recording process
    proc = start_record(data, "--input", str(SAMPLE), "--speed", "10", "--no-upload")
    time.sleep(6.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    core, events = core_factory(heidi_env, data)
    offered = core.unfinished_recordings()
    assert len(offered) == 1
    assert offered[0].state is RecordingState.INTERRUPTED
    assert offered[0].duration_s > 40
    rid = offered[0].recording_id
    core.resume_uploads(rid)
    events.wait_for(
        lambda e: (
            isinstance(e, RecordingStateChanged)
            and e.recording_id == rid
            and e.state is RecordingState.DONE
        ),
        timeout=300,
    )
    assert "morning" in core.transcript_text(rid).lower()


def test_no_key_is_reported_offline_and_recording_still_works(
    core_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEIDI_API_KEY", raising=False)
    settings = Settings(base_url="https://heidi.invalid/api", email="a@b.c", user_id="u")
    core, events = core_factory(settings)
    offline = events.wait_for(lambda e: isinstance(e, ConnectionChanged) and e.last_error, 30)
    assert isinstance(offline, ConnectionChanged)
    assert offline.mode == "offline"
    assert "API key" in (offline.last_error or "")
    rid = core.start_recording(FileSpec(SAMPLE, speed=0), ConsultMeta(consent_obtained=True))
    events.wait_for(
        lambda e: isinstance(e, RecordingStateChanged) and e.state is RecordingState.RECORDED
    )
    assert core.pending_uploads() >= 3  # kept and queued for when a key is set
    assert [r.recording_id for r in core.unfinished_recordings()] == [rid]


def test_stop_and_shutdown_racing_a_start_lose_nothing(tmp_path: Path, heidi_env: Settings) -> None:
    """Closing the app while the input is still opening: the recording is closed cleanly.

    (A real race the UI hit: shutdown closed the spool under a session that had just
    started.) Every interleaving must end with either a refused start or a RECORDED
    recording, and never an error from a closed spool.
    """
    from recorder.errors import RecorderError as Refused
    from recorder.spool import Spool

    for attempt in range(6):
        data = tmp_path / f"data{attempt}"
        events = Events()
        core = AmbientCore(events, data_dir=data, settings=heidi_env)
        core.start()
        assert core.wait_ready(30)
        outcome: list[object] = []

        def start(core: AmbientCore = core, outcome: list[object] = outcome) -> None:
            try:
                outcome.append(core.start_recording(FileSpec(SAMPLE, speed=1), ConsultMeta(True)))
            except Refused as error:
                outcome.append(error)

        starter = threading.Thread(target=start)
        starter.start()
        time.sleep(0.01 * attempt)
        core.stop()
        core.shutdown()
        starter.join(30)
        (result,) = outcome
        problems = [e for e in events.of(ErrorOccurred) if "closed" in e.message]
        assert problems == []
        if isinstance(result, str):
            with Spool.open(data) as spool:
                assert spool.recording(result).state is RecordingState.RECORDED
        else:
            assert "shutting down" in str(result)
