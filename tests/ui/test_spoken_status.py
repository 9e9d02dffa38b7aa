"""What a screen reader hears from the window's status labels: what each is and what it says.

A QLabel given an accessible name is read by that name only; "Recorded time", "Connection
status", "Last error" were all a blind clinician could learn, never the time, whether the
uploads get through, or why Record does nothing.
"""

from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from recorder.events import ChunkRecorded, ConnectionChanged
from ui.main_window import MainWindow


def heard(widget: QWidget) -> str:
    """The name a screen reader gets through Qt's accessibility interface."""
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None
    return interface.text(QAccessible.Text.Name)


def test_status_labels_are_read_with_what_they_show(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    controls, status = window.controls, window.status

    controls.set_elapsed(205.0)
    assert heard(controls.elapsed_label) == "Recorded time: 3:25"
    controls.set_can_start(False, "Tick the consent box to start recording.")
    assert "Tick the consent box to start recording." in heard(controls.hint_label)

    status.show_connection(
        ConnectionChanged("offline", "heidi.example", 2, "sign-in: cannot connect")
    )
    assert heard(status.connection).startswith("Connection status: Offline — 2 chunks waiting")
    assert heard(status.error).startswith("Last error: ") and "cannot connect" in heard(
        status.error
    )
    status.clear_error()
    assert heard(status.error) == "Last error"

    window.transcript_model.show_recording("rec")
    window.transcript_model.apply(ChunkRecorded("rec", 0, 50.0, 1000))
    window.transcript.refresh()
    assert heard(window.transcript.status) == "Transcript status: 1 chunk(s) still without text"


def test_settings_messages_and_the_silence_warning_are_read_out(qtbot: QtBot) -> None:
    """IT with a screen reader pressing Save heard nothing of why it was refused."""
    from recorder.events import LevelChanged
    from recorder.settings import Settings
    from ui.level_meter import LevelMeter
    from ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), "stored-key-6789", "No OS keyring here.", problem="Bad.")
    qtbot.addWidget(dialog)
    dialog.show()
    assert heard(dialog.key_label) == "Stored API key: •••• 6789"
    assert heard(dialog.keyring_note) == "Password store: No OS keyring here."
    assert heard(dialog.problem) == "Settings problem: Bad."
    dialog.proxy.setText("proxy.example:3128")
    dialog.save_button.click()
    assert heard(dialog.error).startswith("Settings error: The proxy address must look like")

    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.set_active(True)
    meter.update_level(LevelChanged(0.0, -90.0, silent_for_s=6.4))
    assert heard(meter.warning).startswith("Silence warning: No audio detected for 6 s")


def test_two_startup_notices_are_both_shown_and_both_heard(qtbot: QtBot) -> None:
    """No OS keyring and a log it cannot write share the status bar's one place: the later
    replaced the earlier, and IT (or a screen reader) learnt of one only."""
    from recorder.crypto import KEY_FILE_WARNING
    from recorder.events import ErrorOccurred
    from ui.status_bar import StatusBar
    from ui.status_style import Tone

    keyring = KEY_FILE_WARNING.format(path="/data/spool.key")
    log = "The app cannot write the log /data/logs: it records and uploads, without a log."
    notices = [ErrorOccurred(keyring, "spool", severity="warning")]
    notices.append(ErrorOccurred(log, "log", severity="warning"))
    for first, second in (notices, notices[::-1]):  # either may come first
        bar = StatusBar()
        qtbot.addWidget(bar)
        bar.show_problem(first)
        bar.show_problem(second)
        bar.show_problem(first)  # said again: still two
        assert bar.last_error().splitlines() == [first.message, second.message]
        assert bar.error_tone is Tone.WARN
        spoken = heard(bar.error)
        assert spoken.startswith("Last error: ") and " 2 notices: 1. " in spoken
        assert first.message in spoken and second.message in spoken
        assert bar.error.toolTip().splitlines() == [first.message, second.message]
        assert " 2 notices: " in bar.error.text(), "the count shows, however long the line"
    failure = "Cannot save the transcript to /nowhere/out.txt: No such file or directory"
    bar.show_error(failure)  # an error takes the place; a notice after it does not hide it
    bar.show_problem(notices[0])
    assert bar.last_error() == failure and bar.error_tone is Tone.BAD
