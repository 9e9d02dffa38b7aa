"""UI tests: free each test's Qt objects on the GUI thread once it is over.

Every app a test builds leaves reference cycles behind (the controller's signal lambdas,
the harness's callbacks). Python's cyclic collector runs on whichever thread happens to
allocate: left to chance it ran in a later test's upload thread and destroyed Qt objects
there, which crashed the interpreter (segfault). Collecting here, on the main thread,
after each test makes that deterministic.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread() -> Iterator[None]:
    yield
    gc.collect()
