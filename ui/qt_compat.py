"""Work around PySide6 6.12's `SignalInstance.emit()` reference bug on Python 3.11.

PySide6 6.12.0 returns `True` from `emit()` without taking a reference to it,
so every Python-side emit steals one reference from `True`. On Python < 3.12
(where `True` is not immortal) the interpreter then aborts with "bool_dealloc:
deallocating True or False" after a few hundred emits — within a minute of
level-meter events. `emit()` below measures the bug once and, only when it is
present, gives back the stolen reference after each emit. Every emit in ui/
goes through it; tests/ui/test_qt_compat.py checks the count stays put.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_TRUE = ctypes.py_object(True)


class _Probe(QObject):
    ping = Signal()


def _emit_steals_a_reference() -> bool:
    """True when a raw emit lowers True's reference count (the 6.12 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before - 4


EMIT_STEALS_TRUE = _emit_steals_a_reference()
if EMIT_STEALS_TRUE:  # the probe's own emits stole references too: give them back
    for _ in range(8):
        ctypes.pythonapi.Py_IncRef(_TRUE)


def emit(signal: SignalInstance, *args: Any) -> None:
    """`signal.emit(*args)` without corrupting the interpreter on affected PySide6 versions."""
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]  # returns True
    if EMIT_STEALS_TRUE and result is True:
        ctypes.pythonapi.Py_IncRef(_TRUE)
