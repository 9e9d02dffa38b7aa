"""The app when the microphone is lost mid-consult: it says so, keeps recording, marks the gap.

Real parts: the app (offscreen Qt), the core, PortAudio capturing from a PulseAudio daemon of
the test's own, which is killed (the headset pulled out) and started again. Uploads go to a
closed port, so they wait: this test is about what the clinician sees, not the upload.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from recorder.events import AudioGap, CaptureProblem, ChunkRecorded, LevelChanged
from recorder.states import SessionState
from tests.fixtures.vmic import PulseDaemon
from tests.ui.harness import heidi_settings, running_app
from ui.models import COL_INDEX, COL_LOCAL, INPUT_LOST_TEXT
from ui.status_style import Tone

pytestmark = [pytest.mark.slow, pytest.mark.vmic]

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: uploads wait, the recording does not care


def test_lost_microphone_is_shown_recording_resumes_and_the_gap_is_marked(
    qtbot: QtBot, tmp_path: Path, private_pulse: PulseDaemon
) -> None:
    with running_app(qtbot, tmp_path / "data", heidi_settings(CLOSED_PORT), None) as app:
        w = app.window
        combo = w.devices.combo
        names = lambda: [combo.itemText(i) for i in range(combo.count())]  # noqa: E731
        app.wait(qtbot, lambda: "pulse" in names(), 20)
        combo.setCurrentIndex(names().index("pulse"))
        app.start_recording(qtbot)
        model = w.chunk_model
        app.wait(qtbot, lambda: any(isinstance(e, LevelChanged) for e in app.events), 10)
        time.sleep(1.0)  # some audio before the loss

        private_pulse.kill()
        live = lambda: model.rowCount() - 1  # noqa: E731
        app.wait(qtbot, lambda: model.index(live(), COL_LOCAL).data() == INPUT_LOST_TEXT, 30)
        assert w.status.last_error().startswith("Microphone lost — reconnecting…")
        assert w.status.error_tone is Tone.BAD
        assert app.controller.state is SessionState.RECORDING  # Stop and Pause still work
        assert w.controls.stop_button.isEnabled()
        app.wait(qtbot, lambda: any(isinstance(e, ChunkRecorded) for e in app.events), 10)
        assert model.rows()[0].local is not None  # the audio before the loss is a chunk

        private_pulse.start()
        private_pulse.keep_warm()
        app.wait(qtbot, lambda: any(isinstance(e, AudioGap) for e in app.events), 60)
        app.wait(qtbot, lambda: w.status.last_error().startswith("[no audio for "), 10)
        assert w.status.error_tone is Tone.WARN
        assert model.index(live(), COL_LOCAL).data() == "recording"
        gap = next(e for e in app.events if isinstance(e, AudioGap))
        time.sleep(1.0)  # audio after the microphone came back
        qtbot.mouseClick(w.controls.stop_button, Qt.MouseButton.LeftButton)
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 30)

        after = [r for r in model.rows() if r.index == gap.before_chunk]
        assert after, "a chunk was recorded after the gap"
        row = model.rows().index(after[0])
        tip = model.index(row, COL_INDEX).data(Qt.ItemDataRole.ToolTipRole)
        assert tip == gap.marker() and "microphone lost" in tip
        assert model.index(row, COL_INDEX).data(Qt.ItemDataRole.DecorationRole) is not None
        problems = [e.kind for e in app.events if isinstance(e, CaptureProblem)]
        assert problems.index("input_lost") < problems.index("input_back")
