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
