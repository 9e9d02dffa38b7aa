"""What closing the window or quitting does while a consult is recorded or uploads are pending.

Busy + tray available: hide to the tray, keep recording/uploading, and finish the close
(quit) once the work is done: the user asked to close. Busy + no tray: ask before
quitting. Idle: shut the core down and quit. Stop never throws
audio away: a quit while recording stops capture and keeps what was recorded.

The core shuts down off the GUI thread (flushing the last chunk takes a while): the window
stays responsive and says it is saving, Record/Stop are off, and the app quits once the
core is done. Quit requests meanwhile (a second close, SIGTERM) change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.main_window import MainWindow
from ui.tray import Tray

Confirm = Callable[[str], bool]
ShutdownCore = Callable[[Callable[[], None]], None]  # runs the callback when the core is done
RECORDING_BUSY = "A consult is being recorded"  # the busy reason while capturing
SAVING_TEXT = "Saving the recording… The app closes once the last audio is stored safely."
CLOSING_TEXT = "Closing… the recorded audio stays safely on this computer."
ALL_SENT_TEXT = "Everything recorded has been uploaded. Ambient Recorder has closed."


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
        shutdown_core: ShutdownCore,
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
        self.quitting = False  # the core shutdown has begun
        self.finished = False  # the core is shut down: the window may close, the app quits
        self.closing_text = ""  # what the window says while the core shuts down
        self.closed_to_tray = False  # closed while busy: quit once the work is done
        window.close_guard = self.close_requested
        if tray is not None:
            tray.show_requested.connect(self.show_window)
            tray.quit_requested.connect(self.quit)

    def close_requested(self) -> bool:
        """Window closing: hide to the tray while busy, else ask, else shut down.

        The window itself closes only once the core is shut down (it shows the saving).
        """
        if self.finished:
            return True
        if self.quitting:
            return False  # still saving: the window closes when the core is done
        busy = self.busy_reason()
        if not busy:
            self._shutdown()
            return False
        if self.tray is not None:
            self.window.hide()
            self.closed_to_tray = True
            self.tray.show(f"{busy}; it carries on in the background.")
            return False
        if self._confirm_quit(busy):
            self._shutdown()
        return False

    def _confirm_quit(self, busy: str) -> bool:
        return self.confirm(quit_question(busy))

    def quit(self) -> None:
        """Quit from the menu or tray: ask first when busy."""
        if self.quitting:
            return
        busy = self.busy_reason()
        if busy and not self._confirm_quit(busy):
            return
        self._shutdown()

    def quit_now(self) -> None:
        """Quit without asking (the OS is ending the session): stop, keep the audio, shut down."""
        self._shutdown()

    def work_changed(self, work_done: bool) -> None:
        """The recording or the uploads moved on. A window closed to the tray while busy
        finishes its close once `work_done` (nothing recorded, waiting or unfinished): the
        app would otherwise sit in the tray for good after a close."""
        if not self.closed_to_tray or self.quitting or self.window.isVisible() or not work_done:
            return
        self.closed_to_tray = False
        self._shutdown(ALL_SENT_TEXT)

    def _shutdown(self, tray_text: str | None = None) -> None:
        """Start the one core shutdown; the app quits when it is done (`_shut_down`)."""
        if self.quitting:
            return
        self.quitting = True
        text = SAVING_TEXT if self.busy_reason() == RECORDING_BUSY else CLOSING_TEXT
        self.closing_text = text
        self.window.show_closing(text)
        if self.tray is not None and not self.window.isVisible():
            self.tray.show(tray_text or text)
        self.shutdown_core(self._shut_down)

    def _shut_down(self) -> None:
        """GUI thread, once the core is shut down (the last chunk flushed): close and quit."""
        self.finished = True
        if self.tray is not None and shiboken6.isValid(self.tray):
            self.tray.hide()
        if shiboken6.isValid(self.window):  # it may be freed meanwhile; the app quits anyway
            self.window.close()
        self.quit_app()

    def show_window(self) -> None:
        """Bring the window back from the tray (the close is then called off)."""
        self.closed_to_tray = False
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
