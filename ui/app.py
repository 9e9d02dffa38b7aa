"""The desktop app's entry point: `main() -> int` (called by `ambient-recorder` with no args)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from recorder import exit_codes
from recorder.core import AmbientCore
from recorder.errors import RecorderError
from ui.bridge import EventBridge
from ui.controller import Controller
from ui.main_window import MainWindow, app_icon
from ui.worker import wait_for_background


def main(argv: Sequence[str] | None = None) -> int:
    """Build the app, start the core, run the event loop; returns the exit code."""
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    assert isinstance(app, QApplication)
    app.setApplicationName("Ambient Recorder")
    app.setOrganizationName("AmbientRecorder")
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("ambient-recorder")  # matches packaging/linux/ambient-recorder.desktop
    app.setQuitOnLastWindowClosed(False)  # the close guard decides (tray while uploading)
    bridge = EventBridge()
    try:
        core = AmbientCore(bridge.emit_event)
        window = MainWindow()
        controller = Controller(core, bridge, window)
        window.show()
        controller.start()
    except (RecorderError, OSError) as error:  # e.g. the data folder cannot be created
        QMessageBox.critical(None, "Ambient Recorder cannot start", str(error))
        return exit_codes.FAILURE
    _quit_on_signals(controller)
    code = app.exec()
    wait_for_background()
    return code


def _quit_on_signals(controller: Controller) -> None:
    """SIGTERM (logout, shutdown) and Ctrl-C stop recording cleanly: the last chunk is flushed."""

    def on_signal(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, controller.guard.quit_now)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    wake = QTimer(controller)  # Python runs signal handlers only between bytecodes: tick
    wake.timeout.connect(lambda: None)
    wake.start(250)
