"""Closing while recording never throws audio away; export writes the transcript as shown."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import ChunkRecorded, ElapsedChanged, RecordingStateChanged
from recorder.spool import Spool
from recorder.states import ChunkState, RecordingState, SessionState
from tests.ui.harness import CLOSED_URL, consult_slice, heidi_settings, running_app
from ui.app import quit_on_signals

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def consult_20s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return consult_slice(tmp_path_factory.mktemp("audio") / "consult-20s.wav", 20.0)


@pytest.fixture
def heidi(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    return heidi_settings(local_server.base_url)


def test_without_a_tray_closing_asks_and_keeps_the_audio(
    qtbot: QtBot, tmp_path: Path, heidi: Any, consult_20s: Path
) -> None:
    data = tmp_path / "data"
    with running_app(qtbot, data, heidi, FileSpec(consult_20s, speed=1)) as app:
        app.start_recording(qtbot)
        app.wait(qtbot, lambda: _recorded_s(app.events) >= 2.0, 15)
        app.answers.append(False)
        assert not app.window.close()
        assert app.window.isVisible() and app.controller.state is SessionState.RECORDING
        assert app.questions and app.questions[0].startswith("A consult is being recorded")
        assert "stays safely on this computer" in app.questions[0]

        guard = app.controller.guard
        ticks_while_saving: list[int] = []
        timer = QTimer()  # fires on every pass of the event loop
        timer.timeout.connect(
            lambda: ticks_while_saving.append(1) if guard.quitting and not app.quits else None
        )
        timer.start(0)
        app.answers.append(True)
        assert not app.window.close(), "the window stays up, saying it saves, until saved"
        assert app.quits == [], "the app quits only once the core is shut down"
        controls = app.window.controls
        assert not controls.main_button.isEnabled() and not controls.stop_button.isEnabled()
        assert controls.hint_label.text().startswith("Saving the recording")
        assert app.window.status.currentMessage().startswith("Saving the recording")
        # more quit requests while it saves: no second question, shutdown nor early quit
        assert not app.window.close()
        guard.quit()
        guard.quit_now()
        assert len(app.questions) == 2 and app.quits == []
        app.wait(qtbot, lambda: app.quits == [1], 30)
        timer.stop()
        assert ticks_while_saving, "the GUI thread froze while the core shut down"
        assert not app.window.isVisible()
        assert controls.hint_label.text().startswith("Saving the recording"), "Record stays off"
        recorded = [e for e in app.events if isinstance(e, ChunkRecorded)]
        last_elapsed = _recorded_s(app.events)
        assert any(
            isinstance(e, RecordingStateChanged) and e.state is RecordingState.RECORDED
            for e in app.events
        ), "quitting stopped capture and committed what was recorded"

    # after quit: every chunk is in the spool, with all the audio recorded
    chunk_indexes, seconds = _spooled(data)
    assert chunk_indexes == [e.index for e in recorded]
    assert seconds >= last_elapsed >= 2.0


def test_sigterm_while_recording_saves_the_last_chunk_then_quits(
    qtbot: QtBot, tmp_path: Path, heidi: Any, consult_20s: Path
) -> None:
    data = tmp_path / "data"
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with running_app(qtbot, data, heidi, FileSpec(consult_20s, speed=1)) as app:
            app.start_recording(qtbot)
            app.wait(qtbot, lambda: _recorded_s(app.events) >= 1.0, 15)
            quit_on_signals(app.controller.guard.quit_now, app.window)
            os.kill(os.getpid(), signal.SIGTERM)  # a logout
            app.wait(qtbot, lambda: app.controller.guard.quitting, 10)
            assert not app.window.controls.stop_button.isEnabled()
            os.kill(os.getpid(), signal.SIGTERM)  # again, while it saves: changes nothing
            app.wait(qtbot, lambda: app.quits == [1], 30)
            assert app.questions == [], "the OS is ending the session: nothing is asked"
            qtbot.wait(100)  # the second signal's quit_now (queued first) has run
            assert app.quits == [1]
            last_elapsed = _recorded_s(app.events)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    _indexes, seconds = _spooled(data)
    assert seconds >= last_elapsed >= 1.0


def _spooled(data: Path) -> tuple[list[int], float]:
    """The one recording in the spool at `data`: its chunk indexes and its seconds of audio."""
    spool = Spool.open(data)
    try:
        [recording] = spool.recordings()
        rid = recording.recording_id
        chunks = spool.chunks(rid)
        samples = sum(len(spool.read_chunk_pcm(rid, chunk.index)) for chunk in chunks)
        return [chunk.index for chunk in chunks], samples / recording.sample_rate
    finally:
        spool.close()


def _recorded_s(events: list[Any]) -> float:
    """The recorded time the core last reported."""
    return max((e.elapsed_s for e in events if isinstance(e, ElapsedChanged)), default=0.0)


def test_closing_with_uploads_waiting_asks_about_the_uploads_not_the_recording(
    qtbot: QtBot, tmp_path: Path, consult_20s: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", "key-for-a-server-that-is-not-there")
    offline = heidi_settings(CLOSED_URL)  # uploads wait
    with running_app(qtbot, tmp_path / "data", offline, FileSpec(consult_20s, speed=0)) as app:
        app.window.session.consent.setChecked(True)
        app.controller.record()  # the file is read at once: RECORDING may be over unseen
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 30)
        app.answers.append(False)
        assert not app.window.close()
        assert app.questions == [
            "1 chunk is still waiting to upload. If you quit now, the recorded audio stays "
            "safely on this computer and is uploaded the next time the app starts. Quit anyway?"
        ], "nothing is being recorded: the question must not say 'recording stops'"
        assert app.quits == []


def test_with_a_tray_closing_hides_and_recording_goes_on(
    qtbot: QtBot, tmp_path: Path, heidi: Any, consult_20s: Path
) -> None:
    source = FileSpec(consult_20s, speed=1)
    with running_app(qtbot, tmp_path / "data", heidi, source, use_tray=True) as app:
        app.start_recording(qtbot)
        assert not app.window.close()
        assert not app.window.isVisible(), "hidden to the tray"
        assert app.questions == [] and app.quits == []
        assert app.controller.state is SessionState.RECORDING
        tray = app.controller.guard.tray
        assert tray is not None and "Recording" in tray.icon.toolTip()
        app.controller.guard.show_window()
        assert app.window.isVisible()
        app.window.controls.stop_action.trigger()
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 30)


def test_closed_to_the_tray_the_app_quits_once_everything_is_uploaded(
    qtbot: QtBot, tmp_path: Path, heidi: Any, consult_20s: Path
) -> None:
    """The user closed the window: once recording and uploads are done, the close is finished
    (before, the app sat in the tray for good)."""
    source = FileSpec(consult_20s, speed=1)
    with running_app(qtbot, tmp_path / "data", heidi, source, use_tray=True) as app:
        app.start_recording(qtbot)
        assert not app.window.close()
        assert not app.window.isVisible() and app.quits == [], "recording goes on in the tray"
        rid = app.controller.recording_id
        app.window.controls.stop_action.trigger()  # the shortcut still works with it hidden
        app.wait(qtbot, lambda: app.quits == [1], 60)
        assert app.questions == [] and not app.window.isVisible()
        assert rid is not None
        spool = Spool.open(tmp_path / "data")
        try:
            recording = spool.recording(rid)
            assert recording.state in (RecordingState.FINISHED, RecordingState.DONE)
            assert {c.state for c in spool.chunks(rid)} == {ChunkState.UPLOADED}
        finally:
            spool.close()


def test_idle_close_shuts_down_without_asking(qtbot: QtBot, tmp_path: Path, heidi: Any) -> None:
    with running_app(qtbot, tmp_path / "data", heidi, None) as app:
        app.wait(qtbot, lambda: app.window.status.connection.text().startswith("Connected"), 30)
        assert not app.window.close(), "it closes once the core is shut down, off this thread"
        app.wait(qtbot, lambda: app.quits == [1], 30)
        assert app.questions == [] and not app.window.isVisible()


def test_export_writes_the_transcript_with_gap_markers(
    qtbot: QtBot, tmp_path: Path, heidi: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="recorder.audit")
    from recorder.events import (
        ChunkRecorded,
        SessionStateChanged,
        TranscriptChunk,
        TranscriptUpdated,
    )
    from recorder.states import ServerStatus

    with running_app(qtbot, tmp_path / "data", heidi, None) as app:
        rid = "exported"
        chunk = TranscriptChunk(0, f"{rid}-0", ServerStatus.READY, "Hello there.", 50, "LIVE")
        for event in (
            SessionStateChanged(SessionState.RECORDING, rid),
            ChunkRecorded(rid, 0, 50, 1),
            ChunkRecorded(rid, 1, 50, 1),
            TranscriptUpdated(rid, "s", (chunk,), "Hello there."),
        ):
            app.bridge.emit_event(event)
        app.wait(qtbot, lambda: "Hello there." in app.window.transcript.text.toPlainText(), 5)
        target = tmp_path / "out.txt"
        app.controller.export_transcript(str(target))
        # the export's report, not the file: its audit line is written after the file appears
        saved = f"Transcript saved to {target}"
        app.wait(qtbot, lambda: app.window.status.currentMessage() == saved, 10)
        assert target.read_text(encoding="utf-8") == (
            "Hello there.\n\n[chunk 2 — waiting to upload]\n"
        )
        exported = [
            r.getMessage() for r in caplog.records if "transcript.exported" in r.getMessage()
        ]
        size = len(target.read_text(encoding="utf-8")) - 1  # the text, without the final newline
        assert exported == [f"audit: transcript.exported recording={rid} chars={size}"]
        app.controller.export_transcript(str(tmp_path / "missing-dir" / "out.txt"))
        app.wait(qtbot, lambda: "No such file" in app.window.status.last_error(), 10)
