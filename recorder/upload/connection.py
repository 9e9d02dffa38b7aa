"""Turns upload outcomes into ConnectionChanged events, only when something changed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from recorder.events import ConnectionChanged, EventSink
from recorder.heidi.errors import HeidiError
from recorder.logs import audit, url_host


class ConnectionTracker:
    """Online/offline as seen by the last request; emits on transitions and new errors only."""

    def __init__(
        self,
        emit: EventSink,
        mode: str,
        describe: Callable[[], str],
        waiting: Callable[[], int],
    ) -> None:
        self._emit = emit
        self._mode = mode
        self._describe = describe
        self._waiting = waiting
        self._lock = threading.Lock()
        self._online: bool | None = None
        self._last_error: str | None = None

    def ok(self) -> None:
        with self._lock:
            if self._online is True:
                return
            self._online = True
            self._last_error = None
        audit("upload.online", mode=self._mode, host=url_host(self._describe()))
        self._emit(ConnectionChanged(mode=self._mode, detail=self._describe()))

    def failed(self, error: HeidiError) -> None:
        message = str(error)
        with self._lock:
            if self._online is False and self._last_error == message:
                return
            went_offline = self._online is not False
            self._online = False
            self._last_error = message
        try:
            waiting = self._waiting()
        except Exception:  # the spool may be the very thing failing
            waiting = 0
        if went_offline:  # transitions only: an outage is one line, not one per retry
            audit(
                "upload.offline",
                host=url_host(self._describe()),
                error=type(error).__name__,
                waiting_chunks=waiting,
            )
        self._emit(
            ConnectionChanged(
                mode="offline",
                detail=self._describe(),
                waiting_chunks=waiting,
                last_error=message,
                exit_code=error.exit_code,
            )
        )
