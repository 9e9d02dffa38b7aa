"""The pinned PySide6 keeps Python's reference counts right (6.12.0 did not, on CPython 3.11).

PySide6 6.12.0 dropped a reference to None on every void Qt call and to True on
every signal emit; on CPython 3.11 the interpreter aborted ("none_dealloc") after a
few minutes of level-meter updates. constraints.txt pins a release without the bug
and pyproject.toml excludes 6.12.0. This runs in a subprocess, because with a bad
release the interpreter dies rather than failing an assert.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication([])
label = QLabel()

class Emitter(QObject):
    fired = Signal(int)

emitter = Emitter()
none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(20_000):
    label.setText("level")
    emitter.fired.emit(1)
app.processEvents()
print(sys.getrefcount(None) - none_before, sys.getrefcount(True) - true_before)
"""


def test_void_calls_and_emits_do_not_leak_or_steal_references() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    none_delta, true_delta = (int(x) for x in done.stdout.split())
    # 20,000 calls each: a stealing release shows ~-20,000; allow a little noise either way
    assert abs(none_delta) < 100, none_delta
    assert abs(true_delta) < 100, true_delta
