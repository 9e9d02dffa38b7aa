"""Real widgets driven by real event objects: level, record controls, status bar, transcript."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from recorder.events import (
    AudioGap,
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    ConnectionChanged,
    ErrorOccurred,
    LevelChanged,
    SessionStateChanged,
    TranscriptChunk,
    TranscriptUpdated,
)
from recorder.states import ChunkState, ServerStatus, SessionState
from ui.level_meter import LevelMeter, level_percent
from ui.record_button import RecordControls
from ui.recovery_dialog import RecoveryDialog, describe
from ui.status_bar import StatusBar, connection_text
from ui.status_style import Tone
from ui.transcript_model import TranscriptModel
from ui.transcript_view import TranscriptView

RID = "rec-1"


def test_level_bar_maps_dbfs_and_handles_nan() -> None:
    assert level_percent(-60.0) == 0
    assert level_percent(-120.0) == 0
    assert level_percent(0.0) == 100
    assert level_percent(-30.0) == 50
    assert level_percent(float("nan")) == 0


def test_silence_warning_only_while_recording_and_after_five_seconds(qtbot: QtBot) -> None:
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.update_level(LevelChanged(0.0, -90.0, silent_for_s=12.0))
    assert meter.warning_text() == ""  # not recording: no nagging
    meter.set_active(True)
    meter.update_level(LevelChanged(0.0, -90.0, silent_for_s=4.0))
    assert meter.warning_text() == ""
    meter.update_level(LevelChanged(0.0, -90.0, silent_for_s=6.4))
    assert meter.warning_text().startswith("No audio detected for 6 s")
    assert "microphone" in meter.warning_text()
    meter.update_level(LevelChanged(0.4, -20.0, silent_for_s=0.0))
    assert meter.warning_text() == ""
    assert meter.bar.value() == level_percent(-20.0)
    meter.set_active(False)
    assert meter.bar.value() == 0


def test_record_button_follows_state_and_consent_gate(qtbot: QtBot) -> None:
    controls = RecordControls()
    qtbot.addWidget(controls)
    controls.set_can_start(False, "Tick the consent box to start recording.")
    assert not controls.main_button.isEnabled()
    assert "consent" in controls.main_button.toolTip()
    assert "Ctrl+R" in controls.main_button.toolTip()
    assert not controls.stop_button.isEnabled()
    with qtbot.assertNotEmitted(controls.record_clicked):
        controls.record_action.trigger()  # the shortcut is gated too
    controls.set_can_start(True)
    with qtbot.waitSignal(controls.record_clicked):
        controls.record_action.trigger()
    controls.set_state(SessionState.RECORDING)
    assert controls.main_button.text() == "Pause" and controls.stop_button.isEnabled()
    with qtbot.waitSignal(controls.pause_clicked):
        controls.main_button.click()
    controls.set_state(SessionState.PAUSED)
    assert controls.main_button.text() == "Resume"
    with qtbot.waitSignal(controls.resume_clicked):
        controls.pause_action.trigger()
    with qtbot.waitSignal(controls.stop_clicked):
        controls.stop_action.trigger()
    controls.set_state(SessionState.FINISHING)
    assert not controls.main_button.isEnabled() and not controls.stop_button.isEnabled()
    controls.set_elapsed(125.9)
    assert controls.elapsed_label.text() == "2:05"
    for widget in (controls.main_button, controls.stop_button, controls.elapsed_label):
        assert widget.accessibleName()


def test_record_controls_stay_off_while_the_app_saves_to_quit(qtbot: QtBot) -> None:
    controls = RecordControls()
    qtbot.addWidget(controls)
    controls.set_can_start(True)
    controls.set_state(SessionState.RECORDING)
    controls.set_closing("Saving the recording…")
    assert not controls.main_button.isEnabled() and not controls.stop_button.isEnabled()
    assert controls.hint_label.text() == "Saving the recording…"
    emitted: list[str] = []
    controls.record_clicked.connect(lambda: emitted.append("record"))
    controls.pause_clicked.connect(lambda: emitted.append("pause"))
    controls.stop_clicked.connect(lambda: emitted.append("stop"))
    for state in (SessionState.RECORDING, SessionState.DONE):  # the state moves on meanwhile
        controls.set_state(state)
        assert not controls.main_button.isEnabled() and not controls.stop_button.isEnabled()
        for action in (controls.record_action, controls.pause_action, controls.stop_action):
            action.trigger()
    assert emitted == []
    controls.set_closing("")  # the check above can fail: without the closing, keys act
    controls.set_state(SessionState.RECORDING)
    controls.stop_action.trigger()
    assert emitted == ["stop"]


def test_status_bar_says_where_uploads_go(qtbot: QtBot) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.show_connection(ConnectionChanged("local", "local server"))
    assert bar.connection.text() == "Local transcription server on this computer"
    long = "A very long problem description " * 20
    bar.show_error(long)
    assert bar.last_error() == long and bar.error.text().endswith("…")
    assert bar.error.sizeHint().width() <= 600
    bar.show_connection(ConnectionChanged("heidi", "https://h.example/api", 2), "AU")
    assert (
        bar.connection.text()
        == "Connected to Heidi AU (https://h.example/api) — 2 chunks to upload"
    )
    bar.show_connection(ConnectionChanged("offline", "", 3, "Connection refused"))
    assert bar.connection.text() == "Offline — 3 chunks waiting to upload"
    assert bar.last_error() == "Connection refused"
    bar.show_problem(CaptureProblem("device_lost", "The microphone was unplugged."))
    assert bar.last_error() == "The microphone was unplugged."
    bar.show_problem(ErrorOccurred("The server refused chunk 3: not audio."))
    assert bar.last_error() == "The server refused chunk 3: not audio."
    assert connection_text(ConnectionChanged("offline", "", 1))[0].endswith(
        "1 chunk waiting to upload"
    )


def test_a_connection_error_is_past_once_connected_other_errors_stay(qtbot: QtBot) -> None:
    """The red "server cannot be reached" stayed after the uploads got through again."""
    bar = StatusBar()
    qtbot.addWidget(bar)
    refused = "The server cannot be reached: connection refused"
    down = ConnectionChanged("offline", "h.example", 2, refused)
    bar.show_connection(down)
    bar.show_connection(ConnectionChanged("offline", "connecting…", 2))  # reconnecting
    assert bar.error_tone is Tone.BAD and bar.last_error() == refused
    bar.show_connection(ConnectionChanged("heidi", "https://h.example/api"), "AU")
    assert bar.error.text().startswith("Earlier, ") and bar.error.text().endswith(refused)
    assert bar.error.accessibleName().startswith("Last error: Earlier, ")
    assert bar.error_tone is Tone.NEUTRAL and bar.error_icon.isHidden()
    assert bar.last_error() == refused, "still readable, no longer red"
    # an error from connecting (no key, sign-in refused) is about the link too
    bar.show_problem(ErrorOccurred("No Heidi API key: set it in the settings.", "connection"))
    assert bar.error_tone is Tone.BAD
    bar.show_connection(ConnectionChanged("local", "local server"))
    assert bar.error.text().startswith("Earlier, ") and bar.error_tone is Tone.NEUTRAL
    # a failed export, a refused chunk, a lost microphone: not about the link, they stay
    bar.show_connection(down)
    failed = "Cannot save the transcript to /nowhere/out.txt: No such file or directory"
    for error in (failed, "The server refused chunk 3: not audio."):
        bar.show_problem(ErrorOccurred(error, "transcript"))
        bar.show_connection(ConnectionChanged("heidi", "https://h.example/api"), "AU")
        assert bar.error_tone is Tone.BAD and bar.last_error() == error
        assert not bar.error.text().startswith("Earlier") and bar.error_icon.isVisibleTo(bar)
        bar.show_connection(down)


def test_a_link_error_reported_again_does_not_hide_a_newer_message(qtbot: QtBot) -> None:
    """While offline the controller re-sends the last ConnectionChanged (with a new waiting
    count) on every chunk event: that re-stamped the old link error over a newer message,
    e.g. the lost microphone's gap notice, at the next chunk recorded."""
    bar = StatusBar()
    qtbot.addWidget(bar)
    refused = "The server cannot be reached: connection refused"
    bar.show_connection(ConnectionChanged("offline", "h.example", 1, refused))
    assert bar.last_error() == refused and bar.error_tone is Tone.BAD
    gap = "[no audio for 12 s: microphone lost] Recording continues from 'pulse'."
    bar.show_problem(CaptureProblem("input_back", gap))
    bar.show_connection(ConnectionChanged("offline", "h.example", 2, refused))  # a new chunk
    assert bar.last_error() == gap and bar.error_tone is Tone.WARN
    assert bar.connection.text().startswith("Offline — 2 chunks waiting to upload")
    # a different reason, or the same one after the link was back, is news: shown
    timeout = "The server did not answer in time"
    bar.show_connection(ConnectionChanged("offline", "h.example", 2, timeout))
    assert bar.last_error() == timeout and bar.error_tone is Tone.BAD
    bar.show_problem(CaptureProblem("input_back", gap))
    bar.show_connection(ConnectionChanged("heidi", "https://h.example/api", 2), "AU")
    bar.show_connection(ConnectionChanged("offline", "h.example", 2, timeout))
    assert bar.last_error() == timeout and bar.error_tone is Tone.BAD


def _tc(index: int, status: ServerStatus, text: str = "") -> TranscriptChunk:
    return TranscriptChunk(index, f"{RID}-{index}", status, text, 50.0, "USER_UPLOADED")


def test_transcript_shows_gaps_in_order_and_copies(qtbot: QtBot) -> None:
    model = TranscriptModel()
    view = TranscriptView(model)
    qtbot.addWidget(view)
    model.apply(SessionStateChanged(SessionState.RECORDING, RID))
    for event in (
        ChunkRecorded(RID, 0, 50, 1),
        ChunkRecorded(RID, 1, 50, 1),
        ChunkRecorded(RID, 2, 50, 1),
        ChunkRecorded(RID, 3, 50, 1),
        ChunkStateChanged(RID, 3, ChunkState.REJECTED, error="bad"),
        TranscriptUpdated(
            RID,
            "s",
            (
                _tc(2, ServerStatus.READY, "Third part."),
                _tc(0, ServerStatus.READY, " First part. "),
                _tc(1, ServerStatus.PENDING),
            ),
            "First part. Third part.",
        ),
    ):
        model.apply(event)
    view.refresh()
    expected = (
        "First part.\n\n[chunk 2 — transcribing…]\n\nThird part.\n\n"
        "[chunk 4 — upload rejected; audio kept]"
    )
    assert view.text.toPlainText() == expected
    assert view.status.text() == "2 chunk(s) still without text"
    view.copy_button.click()
    assert QGuiApplication.clipboard().text() == expected
    model.apply(TranscriptUpdated(RID, "s", (_tc(1, ServerStatus.FAILED),), ""))
    view.refresh()
    assert "[chunk 2 — transcription failed]" in view.text.toPlainText()
    model.apply(
        TranscriptUpdated(
            RID,
            "s",
            (_tc(1, ServerStatus.READY, "Second."), _tc(3, ServerStatus.READY, "Fourth.")),
            "",
            final=True,
        )
    )
    view.refresh()
    assert view.text.toPlainText() == "First part.\n\nSecond.\n\nThird part.\n\nFourth."
    assert model.is_complete() and view.status.text() == "Final transcript — complete"
    model.apply(TranscriptUpdated("another", "s", (_tc(0, ServerStatus.READY, "X"),), "X"))
    assert "X" not in model.text()


def _gap(before: int, seconds: float, started_at: float = 1000.0) -> AudioGap:
    return AudioGap(RID, before, 50.0 * before, started_at, seconds, "microphone lost")


def test_transcript_marks_a_lost_microphone_where_the_audio_is_missing(qtbot: QtBot) -> None:
    model = TranscriptModel()
    view = TranscriptView(model)
    qtbot.addWidget(view)
    model.apply(SessionStateChanged(SessionState.RECORDING, RID))
    model.apply(ChunkRecorded(RID, 0, 50, 1))
    model.apply(TranscriptUpdated(RID, "s", (_tc(0, ServerStatus.READY, "Before."),), ""))
    assert model.apply(CaptureProblem("input_lost", "Microphone lost — reconnecting…"))
    model.apply(ChunkRecorded(RID, 1, 12, 1))  # what was captured up to the loss
    view.refresh()
    lost = "[no audio: microphone lost — reconnecting…]"
    assert view.text.toPlainText() == f"Before.\n\n[chunk 2 — waiting to upload]\n\n{lost}"
    assert view.status.text().startswith("Microphone lost: nothing is being recorded")
    view.copy_button.click()
    assert QGuiApplication.clipboard().text().endswith(lost)  # copied while still away

    assert model.apply(_gap(2, 95.4))  # the microphone is back after 95 s
    model.apply(CaptureProblem("input_back", "[no audio for 1 min 35 s: microphone lost] …"))
    model.apply(ChunkRecorded(RID, 2, 50, 1))
    model.apply(_gap(2, 95.4))  # reported again (a resumed recording): shown once
    model.apply(TranscriptUpdated(RID, "s", (_tc(2, ServerStatus.READY, "After."),), ""))
    view.refresh()
    marker = "[no audio for 1 min 35 s: microphone lost]"
    expected = f"Before.\n\n[chunk 2 — waiting to upload]\n\n{marker}\n\nAfter."
    assert view.text.toPlainText() == expected
    assert view.status.text() == (
        "1 chunk(s) still without text; 1 gap(s) with no audio, marked in the text"
    )
    view.copy_button.click()
    assert QGuiApplication.clipboard().text() == expected

    # lost again, and the recording ends before it comes back: the gap closes the text
    model.apply(CaptureProblem("input_lost", "Microphone lost — reconnecting…"))
    model.apply(ChunkRecorded(RID, 3, 20, 1))
    model.apply(CaptureProblem("input_lost", "[no audio for 10 s: …] The recording ended …"))
    model.apply(_gap(4, 10.0, started_at=2000.0))
    model.apply(SessionStateChanged(SessionState.FINISHING, RID))
    chunks = (_tc(1, ServerStatus.READY, "Middle."), _tc(3, ServerStatus.READY, "Last."))
    model.apply(TranscriptUpdated(RID, "s", chunks, "", final=True))
    view.refresh()
    assert view.text.toPlainText() == (
        f"Before.\n\nMiddle.\n\n{marker}\n\nAfter.\n\nLast.\n\n[no audio for 10 s: microphone lost]"
    )
    assert model.is_complete() and model.missing() == 0
    assert view.status.text() == (
        "Final transcript — complete; 2 gap(s) with no audio, marked in the text"
    )


def test_a_gap_for_another_recording_or_a_loss_while_not_recording_is_not_shown() -> None:
    model = TranscriptModel()
    model.show_recording(RID)  # a recording from before, shown after a restart
    model.apply(ChunkRecorded(RID, 0, 50, 1))
    assert not model.apply(CaptureProblem("input_lost", "lost"))  # not ours: not capturing
    assert not model.apply(AudioGap("other", 0, 0.0, 1.0, 5.0, "microphone lost"))
    assert model.text() == "[chunk 1 — waiting to upload]"
    model.apply(_gap(0, 5.0))  # a gap before the first chunk
    assert model.text() == "[no audio for 5 s: microphone lost]\n\n[chunk 1 — waiting to upload]"


def test_recovery_dialog_lists_and_returns_ticked(qtbot: QtBot) -> None:
    from recorder.core import RecordingSummary as Summary
    from recorder.states import RecordingState

    rows = [
        Summary("a", RecordingState.INTERRUPTED, 1.7e9, 3, 1, 150.0),
        Summary("b", RecordingState.RECORDED, 1.7e9, 2, 0, 95),
    ]
    assert describe(rows[0]).endswith("2:30 — 1 of 3 chunks uploaded (interrupted)")
    dialog = RecoveryDialog(rows)
    qtbot.addWidget(dialog)
    assert dialog.chosen_ids() == ["a", "b"]
    from PySide6.QtCore import Qt

    dialog.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.chosen_ids() == ["a"]


def test_app_icon_loads(qtbot: QtBot) -> None:
    from ui.main_window import ICON_PATH, app_icon

    assert Path(ICON_PATH).is_file()
    assert not app_icon().pixmap(32, 32).isNull()
    assert QApplication.instance() is not None
