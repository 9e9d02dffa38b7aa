"""Ctrl+S out of habit never ends a consult; Stop has its own, deliberate key combination."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import ElapsedChanged, SessionStateChanged
from recorder.states import SessionState
from tests.ui.harness import consult_slice, heidi_settings, running_app
from ui.record_button import STOP_KEYS

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
REFLEX_KEYS = ("Ctrl+S", "Ctrl+Shift+S", "Ctrl+W", "Ctrl+Q", "Esc")


def test_stop_is_not_a_key_pressed_by_reflex() -> None:
    portable = STOP_KEYS.toString(QKeySequence.SequenceFormat.PortableText)
    assert portable not in REFLEX_KEYS
    assert portable == "Ctrl+Shift+X"


@pytest.mark.slow
def test_ctrl_s_keeps_recording_and_the_stop_keys_stop(
    qtbot: QtBot, tmp_path: Path, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    source = FileSpec(consult_slice(tmp_path / "consult.wav", 20.0), speed=1)
    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, tmp_path / "data", settings, source) as app:
        w = app.window
        app.start_recording(qtbot)
        w.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
        assert "Ctrl+Shift+X" in w.controls.stop_button.toolTip()

        def recorded_s() -> float:
            times = [e.elapsed_s for e in app.events if isinstance(e, ElapsedChanged)]
            return max(times, default=0.0)

        at_ctrl_s = recorded_s()
        qtbot.keyClick(w, Qt.Key.Key_S, CTRL)
        hint = w.status.currentMessage()
        assert hint.startswith("Nothing to save") and "Stop (Ctrl+Shift+X)" in hint
        # still capturing well after the key: a Stop would have ended the elapsed time
        app.wait(qtbot, lambda: recorded_s() > at_ctrl_s + 1.5, 10)
        assert app.core.state is SessionState.RECORDING
        assert app.controller.state is SessionState.RECORDING
        assert not any(
            isinstance(e, SessionStateChanged) and e.state is SessionState.FINISHING
            for e in app.events
        )

        qtbot.keyClick(w, Qt.Key.Key_X, CTRL | SHIFT)
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 30)
