"""What closing the window or quitting does while a consult is recorded or uploads are pending.

Busy + tray available: hide to the tray, keep recording/uploading. Busy + no
tray: ask before quitting. Idle: shut the core down and quit. Stop never throws
audio away: a quit while recording stops capture and keeps what was recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.main_window import MainWindow
from ui.tray import Tray

Confirm = Callable[[str], bool]
RECORDING_BUSY = "A consult is being recorded"  # the busy reason while capturing


def quit_question(busy: str) -> str:
    """What quitting now would do, in words: "recording stops" only when it is recording."""
    if busy == RECORDING_BUSY:
        return (
            f"{busy}. If you quit now, recording stops; the audio recorded so far stays "
            "safely on this computer and is uploaded the next time the app starts. Quit anyway?"
        )
    return (
        f"{busy}. If you quit now, the recorded audio stays safely on this computer and is "
        "uploaded the next time the app starts. Quit anyway?"
    )


def ask_user(question: str) -> bool:
    """A Yes/No question box (the default `confirm`)."""
    answer = QMessageBox.question(None, "Ambient Recorder", question)
    return answer == QMessageBox.StandardButton.Yes


class CloseGuard(QObject):
    """Decides whether the window may close and how the app quits."""

    def __init__(
        self,
        window: MainWindow,
        tray: Tray | None,
        busy_reason: Callable[[], str],
        shutdown_core: Callable[[], None],
        confirm: Confirm = ask_user,
        quit_app: Callable[[], None] = QApplication.quit,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.tray = tray
        self.busy_reason = busy_reason
        self.shutdown_core = shutdown_core
        self.confirm = confirm
        self.quit_app = quit_app
        self.quitting = False
        window.close_guard = self.close_requested
        if tray is not None:
            tray.show_requested.connect(self.show_window)
            tray.quit_requested.connect(self.quit)

    def close_requested(self) -> bool:
        """Window closing: hide to the tray while busy, else ask, else shut down."""
        if self.quitting:
            return True
        busy = self.busy_reason()
        if not busy:
            self._shutdown()
            return True
        if self.tray is not None:
            self.window.hide()
            self.tray.show(f"{busy}; it carries on in the background.")
            return False
        if self._confirm_quit(busy):
            self._shutdown()
            return True
        return False

    def _confirm_quit(self, busy: str) -> bool:
        return self.confirm(quit_question(busy))

    def quit(self) -> None:
        """Quit from the menu or tray: ask first when busy."""
        busy = self.busy_reason()
        if busy and not self._confirm_quit(busy):
            return
        self._shutdown()
        self.window.close()

    def quit_now(self) -> None:
        """Quit without asking (the OS is ending the session): stop, keep the audio, shut down."""
        self._shutdown()
        self.window.close()

    def _shutdown(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self.shutdown_core()
        if self.tray is not None:
            self.tray.hide()
        self.quit_app()

    def show_window(self) -> None:
        """Bring the window back from the tray."""
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
