"""Make PySide6 6.12's abi3 wheel safe on CPython 3.11: pin None/True/False.

The PySide6 6.12.0 wheel (tag cp310-abi3) behaves as if built with Python 3.12
headers, where `Py_RETURN_NONE` / `Py_RETURN_TRUE` no longer take a reference
because those objects are immortal. On 3.11 they are not: every void Qt call
from Python (`label.setText`, `app.processEvents`, …) steals a reference to
`None`, every `signal.emit()` one to `True`. After some ten thousand calls —
minutes of level-meter updates — the interpreter aborts with "none_dealloc:
deallocating None" / "bool_dealloc".

The fix mirrors what 3.12 does: give these singletons a refcount so large
(2**40) that no number of stolen references can bring it to zero. Only applied
when the steal is measured at import, on Python < 3.12. Imported first by
`ui/__init__.py`, so every process that uses ui/ is protected;
tests/ui/test_qt_compat.py checks the abort no longer happens.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject

PIN = 1 << 40  # far more references than a process can ever steal
SINGLETONS = (None, True, False, NotImplemented, Ellipsis)
_PROBES = 16


def void_call_steals_none() -> bool:
    """True when a void Qt method called from Python loses a reference to None."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBES):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= _PROBES // 2


def pin_singletons() -> bool:
    """Raise the singletons' refcounts by PIN (CPython < 3.12 only); True if it was needed."""
    if sys.version_info >= (3, 12) or not void_call_steals_none():
        return False
    for obj in SINGLETONS:
        # ob_refcnt is the first field of every object in CPython release builds.
        ctypes.c_ssize_t.from_address(id(obj)).value += PIN
    return True


PINNED = pin_singletons()
