"""One app per data folder: a second launch brings the running one's window forward and ends.

Closing the window while a consult records or uploads hides it to the tray; a clinician who
then started the app again from the desktop got a second app on the same spool: two upload
queues sending the same chunks, two Record buttons, one of them hidden. Now the first app
holds a lock file in the data folder; a second launch writes a request into a file the first
one watches (QtCore only: the packaged app leaves QtNetwork out), the first shows its window
and answers, and the second ends. With no answer it says the app is already running.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QLockFile, QObject, Signal

LOCK_NAME = "app.lock"
REQUEST_NAME = "app.show-request"
ASKED = b"show"
ANSWERED = b"shown"


class SingleInstance(QObject):
    """Holds the data folder's app lock once `claim()` succeeded; `activated` when another
    launch asks for the window."""

    activated = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = data_dir / REQUEST_NAME
        self._lock = QLockFile(str(data_dir / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # only a dead process's lock is stale, never an old one
        self._watcher: QFileSystemWatcher | None = None

    def claim(self) -> bool:
        """True: this app may run (now watching for later launches, when it could). False:
        another app holds the lock (ask it to show its window: see `ask_running_app`).

        A lock that cannot be made at all (a folder this user may not write) is not "another
        app": the app starts and building the core names the folder's problem, as before.
        """
        if not self._lock.tryLock(0):
            return self._lock.error() is not QLockFile.LockError.LockFailedError
        try:
            self.request.write_bytes(b"")
        except OSError:
            return True  # no later launch can reach this one; it still runs alone
        self._watcher = QFileSystemWatcher([str(self.request)], self)
        self._watcher.fileChanged.connect(self._on_request)
        return True

    def release(self) -> None:
        """Stop watching and drop the lock (the app is quitting)."""
        if self._watcher is not None:
            self._watcher.removePaths(self._watcher.files())
            self._watcher = None
        self._lock.unlock()

    def ask_running_app(self, wait_s: float) -> bool:
        """Ask the app holding the lock to show its window; True once it answered."""
        try:
            self.request.write_bytes(ASKED)
        except OSError:
            return False
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                if self.request.read_bytes() == ANSWERED:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _on_request(self, path: str) -> None:
        try:
            asked = Path(path).read_bytes() == ASKED
            if asked:
                Path(path).write_bytes(ANSWERED)
        except OSError:
            asked = False
        if self._watcher is not None and path not in self._watcher.files():
            self._watcher.addPath(path)  # a file written by replacing it loses its watch
        if asked:
            self.activated.emit()
