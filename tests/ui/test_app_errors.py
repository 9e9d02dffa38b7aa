"""Bad input gets a clear error in the status bar, and the app stays usable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.states import SessionState
from tests.ui.harness import heidi_settings, running_app
from ui.status_style import Tone


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"this is not audio at all\n" * 40, "notes.ogg"), (b"", "empty.wav")],
)
def test_unreadable_input_is_reported_and_record_comes_back(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    name: str,
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    bad = tmp_path / name
    bad.write_bytes(content)
    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, tmp_path / "data", settings, FileSpec(bad, speed=0)) as app:
        w = app.window
        qtbot.mouseClick(w.session.consent, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(w.controls.main_button, Qt.MouseButton.LeftButton)
        assert not w.controls.main_button.isEnabled(), "no double start while opening"
        # the start's error, not the key-file notice (a warning) the core may show before it
        app.wait(qtbot, lambda: w.status.error_tone is Tone.BAD, 20)
        error = w.status.last_error()
        assert bad.name in error, error
        assert "Traceback" not in error
        assert app.controller.state is SessionState.IDLE
        app.wait(qtbot, w.controls.main_button.isEnabled, 30)
        assert w.session.consent_given(), "the consult details are kept for another try"
        assert w.chunk_model.rowCount() == 0
