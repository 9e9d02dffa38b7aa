"""The app when the microphone is lost mid-consult: it says so, keeps recording, marks the gap.

Real parts: the app (offscreen Qt), the core, PortAudio capturing from a PulseAudio daemon of
the test's own, which is killed (the headset pulled out) and started again. Uploads go to a
closed port, so they wait: this test is about what the clinician sees, not the upload. The
gap must be in the transcript where the audio is missing, in its export, and again when the
app is restarted and the recording (still not uploaded) is reopened from the spool.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from recorder.events import AudioGap, CaptureProblem, ChunkRecorded, ElapsedChanged
from recorder.states import SessionState
from tests.fixtures.vmic import PulseDaemon
from tests.ui.harness import CLOSED_URL, App, heidi_settings, running_app
from ui.models import COL_INDEX, COL_LOCAL, INPUT_LOST_TEXT
from ui.status_style import Tone
from ui.transcript_model import LOST_NOW_MARKER

pytestmark = [pytest.mark.slow, pytest.mark.vmic]


def _tooltip(app: App) -> str:
    tray = app.controller.guard.tray
    assert tray is not None
    return tray.icon.toolTip()


def _recorded_s(app: App) -> float:
    """The seconds of audio the core has recorded (from its ElapsedChanged events)."""
    return max((e.elapsed_s for e in app.events if isinstance(e, ElapsedChanged)), default=0.0)


def _paragraphs(app: App) -> list[str]:
    return app.window.transcript.text.toPlainText().split("\n\n")


def _check_gap_in_place(paragraphs: list[str], gap: AudioGap, chunks: int) -> None:
    """Every chunk has its line in order, and the gap's marker sits just before its chunk."""
    assert len(paragraphs) == chunks + 1, paragraphs
    assert paragraphs[gap.before_chunk] == gap.marker()
    rest = paragraphs[: gap.before_chunk] + paragraphs[gap.before_chunk + 1 :]
    for index, line in enumerate(rest):  # no text yet: uploads wait
        assert line.startswith(f"[chunk {index + 1} — "), paragraphs


def test_lost_microphone_is_shown_recording_resumes_and_the_gap_is_marked(
    qtbot: QtBot, tmp_path: Path, private_pulse: PulseDaemon
) -> None:
    data = tmp_path / "data"
    with running_app(qtbot, data, heidi_settings(CLOSED_URL), None, use_tray=True) as app:
        w = app.window
        combo = w.devices.combo
        names = lambda: [combo.itemText(i) for i in range(combo.count())]  # noqa: E731
        app.wait(qtbot, lambda: "pulse" in names(), 20)
        combo.setCurrentIndex(names().index("pulse"))
        app.start_recording(qtbot)
        assert w.windowTitle() == "● Recording — Ambient Recorder"
        model = w.chunk_model
        app.wait(qtbot, lambda: _recorded_s(app) >= 1.0, 15)  # some audio before the loss

        private_pulse.kill()
        live = lambda: model.rowCount() - 1  # noqa: E731
        app.wait(qtbot, lambda: model.index(live(), COL_LOCAL).data() == INPUT_LOST_TEXT, 30)
        assert w.status.last_error().startswith("Microphone lost — reconnecting…")
        assert w.status.error_tone is Tone.BAD
        assert app.controller.state is SessionState.RECORDING  # Stop and Pause still work
        assert w.controls.stop_button.isEnabled()
        # the taskbar and the tray no longer say just "Recording"
        assert w.windowTitle() == "⚠ Microphone lost — reconnecting… — Ambient Recorder"
        assert INPUT_LOST_TEXT in _tooltip(app)
        app.wait(qtbot, lambda: any(isinstance(e, ChunkRecorded) for e in app.events), 10)
        assert model.rows()[0].local is not None  # the audio before the loss is a chunk
        app.wait(qtbot, lambda: _paragraphs(app)[-1] == LOST_NOW_MARKER, 10)
        qtbot.mouseClick(w.controls.main_button, Qt.MouseButton.LeftButton)  # Pause
        app.wait(qtbot, lambda: app.controller.state is SessionState.PAUSED, 10)
        assert w.windowTitle() == "⚠ Paused, microphone lost — reconnecting… — Ambient Recorder"
        qtbot.mouseClick(w.controls.main_button, Qt.MouseButton.LeftButton)  # Resume
        app.wait(qtbot, lambda: app.controller.state is SessionState.RECORDING, 10)
        assert w.windowTitle().startswith("⚠ Microphone lost")

        private_pulse.start()
        private_pulse.keep_warm()
        app.wait(qtbot, lambda: any(isinstance(e, AudioGap) for e in app.events), 60)
        app.wait(qtbot, lambda: w.status.last_error().startswith("[no audio for "), 10)
        assert w.status.error_tone is Tone.WARN
        assert model.index(live(), COL_LOCAL).data() == "recording"
        assert w.windowTitle() == "● Recording — Ambient Recorder"
        assert INPUT_LOST_TEXT not in _tooltip(app) and "Recording" in _tooltip(app)
        gap = next(e for e in app.events if isinstance(e, AudioGap))
        back_at = _recorded_s(app)  # audio after the microphone came back:
        app.wait(qtbot, lambda: _recorded_s(app) >= back_at + 1.0, 15)
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

        # the transcript marks the gap where the audio is missing; Copy and Export keep it
        chunks = len(model.rows())
        _check_gap_in_place(_paragraphs(app), gap, chunks)
        assert "gap(s) with no audio" in w.transcript.status.text()
        target = tmp_path / "transcript.txt"
        app.controller.export_transcript(str(target))
        app.wait(qtbot, target.exists, 10)
        exported = target.read_text(encoding="utf-8")
        assert exported == w.transcript.text.toPlainText() + "\n"
        _check_gap_in_place(exported.rstrip("\n").split("\n\n"), gap, chunks)
        recording_id = model.recording_id

    # restarted (still offline): the recording is offered again, and reopened it shows the gap
    with running_app(qtbot, data, heidi_settings(CLOSED_URL), None) as again:
        again.wait(qtbot, lambda: again.controller.recovery_dialog is not None, 30)
        dialog = again.controller.recovery_dialog
        assert dialog is not None and dialog.list.count() == 1
        dialog.upload_button.click()
        assert again.window.chunk_model.recording_id == recording_id
        again.wait(qtbot, lambda: gap.marker() in _paragraphs(again), 15)
        again.wait(qtbot, lambda: len(again.window.chunk_model.rows()) == chunks, 15)
        _check_gap_in_place(_paragraphs(again), gap, chunks)
        assert again.window.chunk_model.gap_text(gap.before_chunk) == gap.marker()
        assert again.window.windowTitle() == "Ambient Recorder"


def test_microphone_gone_for_good_ends_the_recording_and_says_what_is_kept(
    qtbot: QtBot, tmp_path: Path, private_pulse: PulseDaemon
) -> None:
    settings = heidi_settings(CLOSED_URL, reconnect_minutes=0.1)  # gives up after 6 s
    with running_app(qtbot, tmp_path / "data", settings, None) as app:
        w = app.window
        combo = w.devices.combo
        names = lambda: [combo.itemText(i) for i in range(combo.count())]  # noqa: E731
        app.wait(qtbot, lambda: "pulse" in names(), 20)
        combo.setCurrentIndex(names().index("pulse"))
        app.start_recording(qtbot)
        app.wait(qtbot, lambda: _recorded_s(app) >= 1.0, 15)
        private_pulse.kill()
        app.wait(qtbot, lambda: app.controller.state is SessionState.FAILED, 60)
        error = w.status.last_error()
        assert error.startswith("The microphone did not come back within 6 s"), error
        assert "the 1 chunk recorded before is kept and uploads. Last error: " in error, error
        assert ".." not in error
        # not "Sending the last chunks" for good: what is still to upload, as after a Stop
        assert w.status.currentMessage().startswith("Recording saved. 1 chunk(s) still")
        assert w.windowTitle() == "Ambient Recorder"
