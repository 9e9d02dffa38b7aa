"""The desktop app's entry point: `main() -> int` (called by `ambient-recorder` with no args).

The window is shown first. The core (numpy, soundfile, httpx, keyring, cryptography, the
spool: most of the launch time is their imports) is imported and built on a worker thread
right after, and the controller wires it to the window on the GUI thread when it is ready.
The worker first opens the rotating log in the data folder (recorder.logs), for practice IT.
Errors are not hidden by the deferral: a core that cannot start still gets the same
"cannot start" message box, and any other startup error still ends `main()` with it.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from recorder import exit_codes
from recorder.errors import RecorderError
from ui.bridge import EventBridge
from ui.gc_guard import GuiThreadCollector
from ui.main_window import MainWindow, app_icon

if TYPE_CHECKING:
    from recorder.core import AmbientCore
    from ui.controller import Controller
    from ui.single_instance import SingleInstance


def main(argv: Sequence[str] | None = None) -> int:
    """Show the window, start the core right after, run the event loop; returns the exit code."""
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    assert isinstance(app, QApplication)
    app.setApplicationName("Ambient Recorder")
    app.setOrganizationName("AmbientRecorder")
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("ambient-recorder")  # matches packaging/linux/ambient-recorder.desktop
    app.setQuitOnLastWindowClosed(False)  # the close guard decides (tray while uploading)
    instance = claim_data_folder()
    if instance is None:
        return 0  # another app runs on this data folder: its window was brought forward
    window = MainWindow()
    instance.activated.connect(lambda: bring_forward(window))
    window.show()
    collector = GuiThreadCollector(app)  # Qt objects must never be freed by a worker thread
    startup = Startup(app, window, EventBridge())
    quit_on_signals(startup.quit_now, window)
    QTimer.singleShot(0, startup.begin)  # after the window's first paint
    try:
        code = app.exec()
    finally:
        instance.release()
    collector.stop()
    from ui.worker import wait_for_background

    wait_for_background()
    startup.close_log(code)
    if startup.failure is not None:
        raise startup.failure  # e.g. a missing dependency: the same traceback as before
    return code


ALREADY_RUNNING = (
    "Ambient Recorder is already running. If its window does not come up, look for its "
    "icon in the system tray (notification area) and click it."
)
ANSWER_WAIT_S = 5.0


def claim_data_folder() -> SingleInstance | None:
    """This app's hold on its data folder; None when another app has it (that one is asked
    to show its window, or the user is told where it is). A data folder that cannot be used
    is not reported here: building the core says so just after."""
    from recorder import paths
    from ui.single_instance import SingleInstance

    try:
        data_dir = paths.data_dir()
    except RecorderError:
        data_dir = None
    instance = SingleInstance(data_dir if data_dir is not None else Path.home())
    if data_dir is None or instance.claim():
        return instance
    if not instance.ask_running_app(ANSWER_WAIT_S):
        QMessageBox.information(None, "Ambient Recorder", ALREADY_RUNNING)
    return None


def bring_forward(window: MainWindow) -> None:
    """Show the window (hidden to the tray, minimised or behind others) in front."""
    window.showNormal()
    window.raise_()
    window.activateWindow()


class Startup:
    """Builds the core off the GUI thread once the window is up, then wires the controller."""

    def __init__(self, app: QApplication, window: MainWindow, bridge: EventBridge) -> None:
        self.app = app
        self.window = window
        self.bridge = bridge
        self.controller: Controller | None = None
        self.failure: BaseException | None = None  # not a RecorderError: main() re-raises it
        self.cancelled = False
        self.log_file: Path | None = None  # set by the worker; read by main() after the loop
        self.log_problem: str | None = None  # why there is no log file (said once wired)
        window.close_guard = self._close_before_ready
        window.controls.set_can_start(False, "Starting…")  # Record waits for the core, visibly

    def begin(self) -> None:
        """Import and build the core on a worker thread; wire it when it is ready."""
        from ui.worker import run_in_background

        if not self.cancelled:
            run_in_background(self._build_core, self._wire, self._fail)

    def _build_core(self) -> AmbientCore:
        """Worker thread: the log file, the heavy imports, the data folder and the settings file."""
        self.log_file = start_app_log()
        if self.log_file is None:
            self.log_problem = app_log_problem()
        from recorder.core import AmbientCore

        core = AmbientCore(self.bridge.emit_event)
        _ = core.settings  # read here, not when the controller asks on the GUI thread
        return core

    def close_log(self, code: int) -> None:
        """After the core is shut down: the last audit line, then the log file is closed."""
        if self.log_file is None:
            return
        from recorder.logs import audit, stop_logging

        audit("exit", program="app", code=code)
        stop_logging(self.log_file)
        self.log_file = None

    def _wire(self, core: AmbientCore) -> None:
        """GUI thread: the controller connects window and core, then starts the core."""
        if self.cancelled:
            return  # closed before the core was ready: it was never started
        try:
            from ui.controller import Controller

            self.controller = Controller(core, self.bridge, self.window)
            self.controller.start()
            if self.log_problem:  # a warning for IT; recording and uploads are not affected
                self._warn_about_log(self.log_problem)
            elif self.log_file is not None:  # a log failing mid-run (disk full): said once
                from recorder.logs import on_log_failure

                on_log_failure(self.log_file, self._warn_about_log)
        except Exception as error:  # shown or re-raised by main(), as before the deferral
            self._fail(error)

    def _warn_about_log(self, problem: str) -> None:
        """The core's warning event (any thread): the status bar says it, the app goes on."""
        from recorder.events import ErrorOccurred

        message = f"The app {problem}: it records and uploads, without a log."
        self.bridge.emit_event(ErrorOccurred(message, where="log", severity="warning"))

    def _fail(self, error: BaseException) -> None:
        """The core cannot start: say why (RecorderError, OSError) or end main() with it."""
        if self.cancelled:
            return
        self.cancelled = True
        self.window.close_guard = lambda: True
        self.window.hide()
        if isinstance(error, RecorderError | OSError):  # e.g. the data folder cannot be created
            QMessageBox.critical(None, "Ambient Recorder cannot start", str(error))
        else:
            self.failure = error
        self.app.exit(exit_codes.FAILURE)

    def _close_before_ready(self) -> bool:
        """Closed before the core exists: nothing was started, so just quit."""
        self.quit_now()
        return True

    def quit_now(self) -> None:
        """Quit cleanly: through the controller once wired (the last chunk is flushed, then the
        app quits; a second request meanwhile changes nothing)."""
        if self.controller is not None:
            self.controller.guard.quit_now()
        else:
            self.cancelled = True
            self.app.quit()


def start_app_log() -> Path | None:
    """The app's rotating log in its data folder, and its first audit line; None if unusable.

    An unusable data folder is not reported here: building the core fails on it just after,
    with the "cannot start" message.
    """
    from recorder import paths
    from recorder.cli import version_string
    from recorder.logs import configure_logging, log_started

    try:
        data_dir = paths.data_dir()
    except RecorderError:
        return None
    log_file = configure_logging(data_dir)
    if log_file is not None:
        log_started("app", data_dir, version_string())
    return log_file


def app_log_problem() -> str | None:
    """Why the app's log file could not be opened (its path and the reason), or None."""
    from recorder import paths
    from recorder.logs import log_problem

    try:
        return log_problem(paths.data_dir())
    except RecorderError:
        return None  # the core names an unusable data folder itself


def quit_on_signals(quit_now: Callable[[], None], window: MainWindow) -> None:
    """SIGTERM (logout, shutdown) and Ctrl-C stop recording cleanly: the last chunk is flushed
    (`quit_now` starts the core shutdown off the GUI thread; the app quits when it is done)."""

    def on_signal(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, quit_now)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    wake = QTimer(window)  # Python runs signal handlers only between bytecodes: tick
    wake.timeout.connect(lambda: None)
    wake.start(250)
