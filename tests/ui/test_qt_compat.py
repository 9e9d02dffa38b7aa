"""Signals emitted through ui.qt_compat.emit leave the interpreter's `True` intact.

PySide6 6.12 steals a reference to `True` on every Python-side emit; on Python
3.11 that aborts the app after a few hundred level-meter updates.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from ui.qt_compat import emit


class _Sender(QObject):
    value = Signal(object)


def test_many_emits_keep_the_reference_count_of_true(qtbot: QtBot) -> None:
    sender = _Sender()
    got: list[object] = []
    sender.value.connect(got.append)
    before = sys.getrefcount(True)
    for i in range(5000):
        emit(sender.value, i)
    assert got == list(range(5000))
    assert abs(sys.getrefcount(True) - before) < 50
