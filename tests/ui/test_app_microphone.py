"""The app recording from a real microphone: PortAudio capture from the virtual mic.

The device list comes from real PortAudio; speech played into the virtual mic
moves the level meter, becomes a chunk and a transcript; when the room goes
quiet for more than 5 s the "no audio detected" warning appears.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from recorder.events import LevelChanged
from recorder.states import SessionState
from tests.ui.harness import consult_slice, heidi_settings, running_app

pytestmark = [pytest.mark.slow, pytest.mark.vmic]


def test_record_from_the_virtual_microphone_with_level_and_silence_warning(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    private_vmic: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    speech = consult_slice(tmp_path / "speech.wav", 8.0)
    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, tmp_path / "data", settings, None) as app:
        w = app.window
        combo = w.devices.combo
        names = lambda: [combo.itemText(i) for i in range(combo.count())]  # noqa: E731
        app.wait(qtbot, lambda: private_vmic.device in names(), 20)
        combo.setCurrentIndex(names().index(private_vmic.device))
        assert w.devices.selected_device() == private_vmic.device
        app.wait(qtbot, lambda: w.status.connection.text().startswith("Connected"), 30)
        app.start_recording(qtbot)
        assert not combo.isEnabled(), "no device switching while recording"
        player = private_vmic.play(speech)
        assert player.wait(30) == 0
        app.wait(qtbot, lambda: w.level.warning_text().startswith("No audio detected"), 20)
        loud = [e.rms_dbfs for e in app.events if isinstance(e, LevelChanged)]
        assert max(loud) > -40, "speech moved the level meter"
        w.controls.stop_action.trigger()
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 30)
        assert w.level.warning_text() == "", "the warning goes once recording stops"
        assert combo.isEnabled()
        app.wait(qtbot, app.all_ready, 120)
        assert len(w.transcript.model.text().split()) >= 5
