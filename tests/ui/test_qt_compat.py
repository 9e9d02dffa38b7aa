"""PySide6 6.12 on CPython 3.11 steals references to None/True; ui/ pins them so nothing aborts.

Without the pin, each loop below would take None's (or True's) refcount to zero
and the interpreter would abort with "none_dealloc" / "bool_dealloc".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from ui import qt_compat

REPO = Path(__file__).resolve().parents[2]


class _Sender(QObject):
    value = Signal(object)


def test_more_stolen_references_than_none_ever_had_do_not_abort(qtbot: QtBot) -> None:
    probe = QObject()
    sender = _Sender()
    got: list[object] = []
    sender.value.connect(got.append)
    assert sys.getrefcount(None) > (qt_compat.PIN if qt_compat.PINNED else 0)
    calls = 200_000  # well beyond None's natural refcount (tens of thousands)
    for i in range(calls):
        probe.setObjectName("x")
        if i % 4 == 0:
            sender.value.emit(i)
    assert len(got) == calls // 4
    assert sys.getrefcount(None) > 0 and sys.getrefcount(True) > 0


def test_the_pin_is_needed_exactly_when_the_steal_is_measured() -> None:
    """A fresh interpreter: the probe's verdict matches what a raw loop of void calls does."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QObject\n"
        "o = QObject(); b = sys.getrefcount(None)\n"
        "for _ in range(1000): o.setObjectName('x')\n"
        "print(b - sys.getrefcount(None))\n"
    )
    raw = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    stolen = int(raw.stdout.strip())
    assert (stolen >= 900 and sys.version_info < (3, 12)) == qt_compat.PINNED
