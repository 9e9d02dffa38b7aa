"""Run Python's cyclic garbage collector on the GUI thread only.

Left automatic, the collector runs on whichever thread happens to allocate: an upload or
capture worker can then be the one that frees a cycle holding Qt widgets, and destroying
widgets off the GUI thread crashes the process (seen as segfaults in the UI tests). The
app therefore turns automatic collection off and collects from a GUI-thread timer, with
the same generation thresholds Python would use (the known PyQt/PySide recipe).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects when the allocation counters pass gc's own thresholds, from the GUI thread."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> int:
        """Collect the oldest generation whose threshold is passed; return objects freed."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                return gc.collect(generation)
        return 0

    def stop(self) -> None:
        """Give collection back to Python (after a final collection on this thread)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
