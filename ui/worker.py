"""Run slow calls (disk, keyring, device queries, core calls that may wait) off the GUI thread.

The result or the error comes back through a queued signal to a QObject living on
the GUI thread, so callbacks always run there. Errors arrive as the exception;
callers show `str(error)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from ui.qt_compat import emit


class _Relay(QObject):
    """Lives on the GUI thread; receives the job's outcome there and calls back."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_error = on_error
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_done(self, result: object) -> None:
        _live_relays.discard(self)
        if self._on_done is not None:
            self._on_done(result)

    @Slot(object)
    def _deliver_error(self, error: object) -> None:
        _live_relays.discard(self)
        if self._on_error is not None and isinstance(error, BaseException):
            self._on_error(error)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as error:  # reported to the GUI, never swallowed
            emit(self._relay.failed, error)
        else:
            emit(self._relay.done, result)


_live_relays: set[_Relay] = set()  # keeps each relay alive until its job has reported


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Call `fn()` on the global thread pool; `on_done`/`on_error` run on the GUI thread.

    Must be called from the GUI thread (the relay takes the caller's thread).
    """
    relay = _Relay(on_done, on_error)
    _live_relays.add(relay)
    QThreadPool.globalInstance().start(_Job(fn, relay))


def wait_for_background(timeout_ms: int = 30_000) -> bool:
    """Block until every background job has finished (shutdown and tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
