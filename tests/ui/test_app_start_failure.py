"""Record pressed, but the microphone cannot be opened: the clinician is told where they look."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from recorder.states import SessionState
from tests.ui.harness import heidi_settings, running_app

pytestmark = pytest.mark.slow


def test_a_microphone_that_cannot_open_is_said_under_the_record_button(
    qtbot: QtBot, tmp_path: Path, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, tmp_path / "data", settings, None) as app:
        controls = app.window.controls
        combo = app.window.devices.combo
        app.wait(qtbot, lambda: combo.count() > 1, 30)  # the real devices are listed
        combo.addItem("USB headset", "USB headset unplugged since it was listed")
        combo.setCurrentIndex(combo.count() - 1)
        qtbot.mouseClick(app.window.session.consent, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(controls.main_button, Qt.MouseButton.LeftButton)
        app.wait(qtbot, lambda: "did not start" in controls.hint_label.text(), 30)
        assert controls.hint_label.isVisible()
        assert controls.hint_label.text().startswith("Not recording")
        assert app.controller.state is not SessionState.RECORDING
        assert controls.main_button.text() == "Record" and controls.main_button.isEnabled()
        assert app.window.status.last_error(), "the status bar has it too"
        controls.record_action.trigger()  # a new try clears the old reason at once
        assert "did not start" not in controls.hint_label.text()
        app.wait(qtbot, lambda: "did not start" in controls.hint_label.text(), 30)
