"""Layout checks from exploratory QA: nothing the clinician reads is cut off or moves away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from recorder.events import AudioGap, ChunkRecorded, ConnectionChanged, SessionStateChanged
from recorder.states import SessionState
from ui.main_window import MainWindow
from ui.recovery_dialog import RecoveryDialog
from ui.transcript_model import TranscriptModel
from ui.transcript_view import TranscriptView

RID = "rec-layout"
REPO = Path(__file__).resolve().parents[2]


def _shown_whole(label: QLabel) -> bool:
    """A word-wrapped label has the height its words need at its width."""
    return label.height() >= label.heightForWidth(label.width()) > 0


def _settle() -> None:
    """Let the posted layout work finish, however slow the machine: a label's new size asks its
    parent's layout, which may ask its own parent's, each in the next pass of the event loop.
    (`qtbot.wait(50)` ends after 50 ms: a loaded machine may get through one pass only.)"""
    for _ in range(10):
        QApplication.processEvents()


def _window(qtbot: QtBot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1100, 680)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_long_transcript_status_does_not_squeeze_the_consent_box(qtbot: QtBot) -> None:
    window = _window(qtbot)
    model = window.transcript_model
    model.show_recording(RID)
    model.apply(SessionStateChanged(SessionState.RECORDING, RID))
    for index in range(3):
        model.apply(ChunkRecorded(RID, index, 50.0, 1000))
    model.apply(
        AudioGap(RID, 1, at_s=95.0, started_at=1.0, duration_s=16.0, reason="microphone lost")
    )
    window.transcript.refresh()
    _settle()
    status = window.transcript.status.text()
    assert "still without text" in status and "gap(s)" in status
    assert window.transcript.status.visibleRegion().boundingRect().width() > 0
    assert _shown_whole(window.session.consent_text), "the consent words are cut off"
    view = TranscriptView(TranscriptModel())
    qtbot.addWidget(view)
    quiet = view.minimumSizeHint().width()
    view.status.setText(status * 3)
    assert view.minimumSizeHint().width() <= quiet, "the status widens the transcript"


def test_ticking_consent_does_not_move_the_consent_box(qtbot: QtBot) -> None:
    window = _window(qtbot)
    window.controls.set_can_start(False, "Tick the consent box to start recording.")
    _settle()
    before = window.session.consent.mapTo(window, window.session.consent.rect().topLeft())
    assert window.controls.hint_label.isVisible()
    window.controls.set_can_start(True)
    _settle()
    after = window.session.consent.mapTo(window, window.session.consent.rect().topLeft())
    assert not window.controls.hint_label.isVisible()
    assert after == before


class _Summary:
    recording_id = "3f1c"
    created_at = 1_795_991_997.0
    chunks_total = 3
    chunks_uploaded = 2
    state = "interrupted"
    duration_s = 87.8


def test_recovery_offer_shows_each_line_whole(qtbot: QtBot) -> None:
    dialog = RecoveryDialog([_Summary()])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    line = dialog.list.item(0).text()
    assert line.endswith("2 of 3 chunks uploaded (interrupted)")
    needed = dialog.list.sizeHintForColumn(0)
    assert dialog.list.viewport().width() >= needed, "the end of the line is cut off"
    assert not dialog.list.horizontalScrollBar().isVisible()
    assert dialog.list.item(0).checkState() == Qt.CheckState.Checked


def test_the_window_fits_800_by_600_with_long_status_messages(qtbot: QtBot) -> None:
    window = _window(qtbot)
    error = (
        "No OS keyring is available: the spool encryption key is stored in a file readable "
        "only by this user (/home/clinician/.local/share/ambient-recorder/spool.key)."
    )
    window.status.show_error(error)
    window.status.show_connection(ConnectionChanged("local", "", waiting_chunks=0))
    assert window.minimumSizeHint().width() <= 800
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    left = window.controls.parentWidget()
    assert left is not None and left.width() >= left.minimumSizeHint().width()
    assert _shown_whole(window.session.consent_text), "the consent words are cut off"
    assert window.status.last_error() == error, "the whole message stays readable (tooltip)"
    shown = window.status.error.shown_text()
    assert shown.endswith("…") and shown[:-1] in window.status.error.text()
    connection = window.status.connection
    assert (
        connection.shown_text()
        == connection.text()
        == ("Local transcription server on this computer")
    ), "where uploads go is shown whole; the error gives way"


def test_tab_follows_the_way_a_consult_starts(qtbot: QtBot) -> None:
    window = _window(qtbot)
    window.controls.set_can_start(True)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.session.patient)
    expected = [
        window.session.consent,
        window.session.language,
        window.controls.main_button,
        window.devices.combo,  # Stop, Retry, Copy and Export are off: skipped
        window.devices.refresh,
        window.chunks.table,
        window.transcript.text,
        window.session.patient,  # and round again
    ]
    for widget in expected:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is widget, widget.accessibleName()


def test_the_window_opens_within_the_screen(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()  # offscreen: 800×800
    assert room.width() < 1100, "this test needs a screen smaller than the usual window"
    assert window.width() <= room.width() and window.height() <= room.height()
    assert window.width() >= window.minimumSizeHint().width()


def test_at_150_percent_the_window_fits_a_1024_by_700_screen(tmp_path: Path) -> None:
    """QT_SCALE_FACTOR=1.5 (a 144 dpi desktop): the 1024×700 screen is 683×467 for Qt."""
    screen = {"screens": [{"name": "s", "x": 0, "y": 0, "width": 1024, "height": 700}]}
    config = tmp_path / "screen.json"
    config.write_text(json.dumps(screen), encoding="utf-8")
    env = dict(os.environ, QT_SCALE_FACTOR="1.5", PYTHONPATH=str(REPO))
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    probe = subprocess.run(
        [sys.executable, "-m", "tests.ui.scaled_window_probe"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["scale"] == 1.5 and seen["room"] == [683, 467]
    room_w, room_h = seen["room"]
    width, height = seen["window"]
    assert width + seen["frame"] <= room_w and height + seen["frame"] <= room_h, seen
    assert [width, height] >= seen["minimum"] and width >= seen["minimum"][0], seen
    assert seen["minimum"][0] * 1.5 <= 820, "the window can be narrower than at 1024 px"
    assert all(seen["reachable"].values()), seen["reachable"]
    assert seen["consent_whole"] and seen["pane_not_cut"] and seen["status_whole"], seen
    assert seen["right_width"] > 200 and seen["transcript_width"] > 200, seen


def test_in_a_short_narrow_window_the_left_pane_scrolls_and_nothing_is_cut(
    qtbot: QtBot,
) -> None:
    window = _window(qtbot)
    minimum = window.minimumSizeHint()
    window.resize(minimum.width(), max(minimum.height(), 320))
    qtbot.waitUntil(lambda: window.width() == minimum.width())
    window.activateWindow()  # the focus at start goes to the patient field (scrolled to)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.session.patient)
    pane = window.left_pane
    assert pane.verticalScrollBar().maximum() > 0, "a short window: the left pane scrolls"
    assert pane.horizontalScrollBar().maximum() == 0
    inner = pane.widget()
    assert inner.width() >= inner.minimumSizeHint().width(), "the pane's contents squeezed"
    assert inner.width() <= pane.viewport().width()
    for button in (window.controls.main_button, window.controls.stop_button):
        # above the scrolled pane: in sight even with the focus on the patient field
        assert button.visibleRegion().boundingRect() == button.rect(), button.text()
        assert not pane.isAncestorOf(button)
    for widget in (window.session.consent, window.session.language):
        pane.ensureWidgetVisible(widget)
        qtbot.wait(10)
        assert widget.visibleRegion().boundingRect() == widget.rect(), widget.accessibleName()
    assert _shown_whole(window.session.consent_text), "the consent words are cut off"
    language = window.session.language
    pane.verticalScrollBar().setValue(0)
    qtbot.wait(10)
    assert language.visibleRegion().isEmpty(), "this check needs the field out of view"
    language.setFocus()  # as Tab from the transcript or the focus at start does
    qtbot.waitUntil(lambda: language.visibleRegion().boundingRect() == language.rect())
    longest = window.session.language.itemText(3)  # English (United Kingdom) (en-GB)
    assert window.session.language.width() < window.fontMetrics().horizontalAdvance(longest)
    window.devices.set_devices(["alsa_input.pci-0000_00_1f.3.analog-stereo.very-long-name"])
    qtbot.wait(10)
    assert window.minimumSizeHint() == minimum, "a long device name widens the window"


def test_a_click_on_the_consent_words_ticks_the_box(qtbot: QtBot) -> None:
    window = _window(qtbot)
    session = window.session
    qtbot.mouseClick(session.consent_text, Qt.MouseButton.LeftButton)
    assert session.consent_given()
    qtbot.mouseClick(session.consent_text, Qt.MouseButton.LeftButton)
    assert not session.consent_given()
    session.lock(True)  # while recording, what was consented to cannot change
    qtbot.mouseClick(session.consent_text, Qt.MouseButton.LeftButton)
    assert not session.consent_given()
