"""GuiThreadCollector: a cycle made on a worker thread is freed on the GUI thread."""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

from pytestqt.qtbot import QtBot

from ui.gc_guard import GuiThreadCollector


class _Node:
    freed_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.other: _Node | None = None

    def __del__(self) -> None:
        _Node.freed_on.append(threading.current_thread().name)


def test_cycles_from_a_worker_are_collected_on_the_gui_thread(qtbot: QtBot) -> None:
    # The autouse fixture already runs a collector; this one is checked on its own.
    collector = GuiThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled(), "automatic collection would run on any thread"

        def make_garbage() -> None:
            for _ in range(5_000):  # far past gen 0's threshold: gc would run here if enabled
                a, b = _Node(), _Node()
                a.other, b.other = b, a

        _Node.freed_on.clear()
        worker = threading.Thread(target=make_garbage, name="worker")
        worker.start()
        worker.join()
        assert _Node.freed_on == [], "collected on the worker thread"
        qtbot.waitUntil(lambda: len(_Node.freed_on) >= 10_000, timeout=5_000)
        assert set(_Node.freed_on) == {threading.main_thread().name}
    finally:
        collector.stop()
        collector.deleteLater()
