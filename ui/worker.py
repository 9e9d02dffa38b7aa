"""Run slow calls (disk, keyring, device queries, core calls that may wait) off the GUI thread.

A small Python thread pool runs the call (plain Python threads, so the core's
calls never run inside Qt's thread pool). The result or the
error comes back through a queued signal to a QObject living on the GUI thread,
so callbacks always run there. Errors arrive as the exception; callers show
`str(error)`.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

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
) -> None:
    """Call `fn()` on the worker pool; `on_done`/`on_error` run on the GUI thread.

    Must be called from the GUI thread (the relay takes the caller's thread).
    """
    relay = _Relay(on_done, on_error)
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
