"""The system tray icon: shows the recording state while the window is closed and uploads go on."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from recorder.states import SessionState
from ui.models import INPUT_LOST_TEXT

_STATE_WORDS = {
    SessionState.IDLE: "Ready",
    SessionState.RECORDING: "Recording",
    SessionState.PAUSED: "Paused",
    SessionState.FINISHING: "Finishing uploads",
    SessionState.DONE: "Done",
    SessionState.FAILED: "Stopped by a problem",
}


def tray_available() -> bool:
    """Whether this desktop has a tray to put the icon in."""
    return QSystemTrayIcon.isSystemTrayAvailable()


def tray_text(state: SessionState, pending_uploads: int, input_lost: bool = False) -> str:
    """The tooltip: state (and a lost microphone, being reopened) plus uploads still to send."""
    text = f"Ambient Recorder — {_STATE_WORDS[state]}"
    if input_lost:
        text += f", {INPUT_LOST_TEXT}"
    if pending_uploads:
        text += f", {pending_uploads} chunk(s) to upload"
    return text


class Tray(QObject):
    """A tray icon with Show and Quit; `show_requested` / `quit_requested` go to the controller."""

    show_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icon, self)
        self.menu = QMenu()
        self.menu.addAction("Show Ambient Recorder").triggered.connect(self.show_requested)
        self.menu.addAction("Quit").triggered.connect(self.quit_requested)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.update_state(SessionState.IDLE, 0)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_requested.emit()

    def update_state(
        self, state: SessionState, pending_uploads: int, input_lost: bool = False
    ) -> None:
        """Refresh the tooltip."""
        self.icon.setToolTip(tray_text(state, pending_uploads, input_lost))

    def show(self, message: str = "") -> None:
        """Put the icon in the tray; optionally say why the app is still running."""
        self.icon.show()
        if message:
            self.icon.showMessage("Ambient Recorder", message)

    def hide(self) -> None:
        """Remove the icon."""
        self.icon.hide()
