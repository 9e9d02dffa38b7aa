"""The whole desktop flow against the real core, real local server and real capture of a file.

Consent → Record → Pause/Resume → Stop → chunks PENDING → READY → transcript → Copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import ChunkRecorded, TranscriptUpdated
from recorder.states import ServerStatus, SessionState
from tests.ui.harness import App, consult_slice, heidi_settings, running_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def consult_100s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return consult_slice(tmp_path_factory.mktemp("audio") / "consult-100s.wav", 100.0)


@pytest.fixture
def app(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: object,
    consult_100s: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[App]:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)  # type: ignore[attr-defined]
    settings = heidi_settings(local_server.base_url)  # type: ignore[attr-defined]
    with running_app(qtbot, tmp_path / "data", settings, FileSpec(consult_100s, speed=8)) as app:
        yield app


def test_consult_records_uploads_and_transcribes(qtbot: QtBot, app: App) -> None:
    w = app.window
    qtbot.waitUntil(
        lambda: w.status.connection.text().startswith("Connected to Heidi TEST"), timeout=30_000
    )
    assert not w.controls.main_button.isEnabled(), "Record must wait for consent"
    assert "consent" in w.controls.hint_label.text()
    w.session.patient.setText("Test Patient 0001")
    qtbot.mouseClick(w.session.consent, Qt.MouseButton.LeftButton)
    assert w.session.consent_given() and w.controls.main_button.isEnabled()

    qtbot.mouseClick(w.controls.main_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.controller.state is SessionState.RECORDING, timeout=15_000)
    assert w.controls.main_button.text() == "Pause"
    assert w.windowTitle() == "● Recording — Ambient Recorder"
    assert not w.session.patient.isEnabled(), "consult details lock while recording"
    assert w.chunk_model.rowCount() == 1  # the chunk being recorded
    qtbot.waitUntil(lambda: w.controls.elapsed_label.text() != "0:00", timeout=15_000)

    w.controls.pause_action.trigger()  # Ctrl+P
    qtbot.waitUntil(lambda: app.controller.state is SessionState.PAUSED, timeout=30_000)
    assert w.controls.main_button.text() == "Resume"
    qtbot.mouseClick(w.controls.main_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.controller.state is SessionState.RECORDING, timeout=30_000)

    qtbot.waitUntil(lambda: any(isinstance(e, ChunkRecorded) for e in app.events), timeout=30_000)
    w.controls.stop_action.trigger()  # Ctrl+Shift+X: the partial last chunk is flushed, not lost
    qtbot.waitUntil(lambda: app.controller.state is SessionState.DONE, timeout=30_000)
    recorded = [e for e in app.events if isinstance(e, ChunkRecorded)]
    assert len(recorded) >= 2
    assert [e.index for e in recorded] == list(range(len(recorded)))
    assert not w.session.consent_given(), "consent never carries over to the next consult"
    assert not w.controls.main_button.isEnabled()

    app.wait(qtbot, app.all_ready, 180)
    seen_pending = any(
        c.status is ServerStatus.PENDING
        for e in app.events
        if isinstance(e, TranscriptUpdated)
        for c in e.chunks
    )
    assert seen_pending, "the UI should have shown chunks as PENDING before READY"
    assert all(s == "transcribed" for s in app.server_statuses())
    # the "saved" message follows the uploads: never "still uploading" once all are uploaded
    app.wait(qtbot, lambda: "still uploading" not in w.status.currentMessage(), 5)
    qtbot.waitUntil(lambda: "[chunk" not in w.transcript.text.toPlainText(), timeout=30_000)
    text = w.transcript.text.toPlainText()
    assert len(text.split()) > 40, text[:200]
    assert w.transcript.copy_button.isEnabled()
    qtbot.mouseClick(w.transcript.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == text
    assert app.controller.busy_reason() == "" or "upload" in app.controller.busy_reason()

    # the next consult's time starts at 0:00, not at the last one's (it stayed while paused)
    assert w.controls.elapsed_label.text() != "0:00"
    shown: list[tuple[SessionState, str]] = []
    app.bridge.session_state.connect(
        lambda event: shown.append((event.state, w.controls.elapsed_label.text()))
    )
    app.start_recording(qtbot)
    assert (SessionState.RECORDING, "0:00") in shown, shown
    w.controls.stop_action.trigger()
    app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 30)
