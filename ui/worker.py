"""Run slow calls (disk, keyring, device queries, core calls that may wait) off the GUI thread.

A small Python thread pool runs the call (plain Python threads, so the core's
calls never run inside Qt's thread pool). The result or the
error comes back through a queued signal to a QObject living on the GUI thread,
so callbacks always run there. Errors arrive as the exception; callers show
`str(error)`.

A job may outlive the widget it reports to (the window is closed and freed while a
shutdown or a device query is still running). Given an `owner`, the outcome is then not
delivered: the callbacks would touch freed Qt objects. An error that nobody can show any
more is logged instead, never lost.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="ui-worker")
_pending: set[concurrent.futures.Future[None]] = set()
_pending_lock = threading.Lock()


class _Relay(QObject):
    """Lives on the GUI thread; receives the job's outcome there and calls back."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        owner: QObject | None,
    ) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_error = on_error
        self._owner = owner
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_done(self, result: object) -> None:
        _live_relays.discard(self)
        if self._on_done is not None and self._owner_alive():
            self._on_done(result)

    @Slot(object)
    def _deliver_error(self, error: object) -> None:
        _live_relays.discard(self)
        if not isinstance(error, BaseException):
            return
        if not self._owner_alive():
            log.warning("A background task failed after its window closed: %s", error)
        elif self._on_error is not None:
            self._on_error(error)

    def _owner_alive(self) -> bool:
        return self._owner is None or shiboken6.isValid(self._owner)


_live_relays: set[_Relay] = set()  # keeps each relay alive until its job has reported


def _run(fn: Callable[[], Any], relay: _Relay) -> None:
    try:
        result = fn()
    except Exception as error:  # reported to the GUI, never swallowed
        relay.failed.emit(error)
    else:
        relay.done.emit(result)


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    owner: QObject | None = None,
) -> None:
    """Call `fn()` on the worker pool; `on_done`/`on_error` run on the GUI thread.

    `owner`: the Qt object the callbacks act on; once it is freed they are not called.
    Must be called from the GUI thread (the relay takes the caller's thread).
    """
    relay = _Relay(on_done, on_error, owner)
    _live_relays.add(relay)
    future = _pool.submit(_run, fn, relay)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: concurrent.futures.Future[None]) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_background(timeout_ms: int = 30_000) -> bool:
    """Block until every background job has finished (shutdown and tests)."""
    with _pending_lock:
        futures = list(_pending)
    _done, not_done = concurrent.futures.wait(futures, timeout=timeout_ms / 1000)
    return not not_done
