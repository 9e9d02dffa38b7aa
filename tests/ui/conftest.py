"""UI tests run with the app's garbage-collection policy: cycles are freed on the GUI thread.

Every app a test builds leaves reference cycles behind (the controller's signal lambdas, the
harness's callbacks). Left to Python, the cyclic collector ran in a later test's upload thread
and destroyed Qt objects there, which crashed the interpreter (segfault). The app itself runs
`ui.gc_guard.GuiThreadCollector`; the tests use it too, and collect once more after each test.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from ui.gc_guard import GuiThreadCollector


@pytest.fixture(scope="package", autouse=True)
def _collect_qt_garbage_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """For the whole package, not per test: between two tests automatic collection was back
    on while the last test's worker threads were still ending, and could free Qt objects there."""
    collector = GuiThreadCollector(qapp)
    yield
    collector.stop()
    collector.deleteLater()


@pytest.fixture(autouse=True)
def _collect_after_each_test(_collect_qt_garbage_on_the_gui_thread: None) -> Iterator[None]:
    yield
    gc.collect()  # on the GUI thread, what the test left behind
