"""The live input level and the "no audio detected" warning.

The warning appears when the core reports the input has stayed at silence for
longer than SILENCE_WARNING_S while recording: a muted or wrong microphone is
the commonest way to lose a consult.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QStyle, QVBoxLayout, QWidget

from recorder.events import LevelChanged
from ui import status_style
from ui.spoken_label import SpokenLabel
from ui.status_style import Tone

SILENCE_WARNING_S = 5.0
FLOOR_DBFS = -60.0


def level_percent(rms_dbfs: float) -> int:
    """Map -60..0 dBFS onto 0..100 (speech sits around the middle)."""
    if rms_dbfs != rms_dbfs:  # NaN from a silent block
        return 0
    clamped = min(0.0, max(FLOOR_DBFS, rms_dbfs))
    return round((clamped - FLOOR_DBFS) / -FLOOR_DBFS * 100)


class LevelMeter(QWidget):
    """A level bar plus a silence warning with text and icon."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._active = False
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.bar.setAccessibleName("Input level")
        self.bar.setAccessibleDescription("How loud the microphone input is right now")
        self.warning_icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.warning_icon.setPixmap(status_style.icon(Tone.WARN).pixmap(size, size))
        self.warning = SpokenLabel("Silence warning")
        self.warning.setWordWrap(True)
        colour = status_style.text_colour(Tone.WARN)
        self.warning.setStyleSheet(f"color: {colour}; font-weight: bold;")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.warning_icon)
        row.addWidget(self.warning, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addLayout(row)
        self._show_warning("")

    def set_active(self, active: bool) -> None:
        """Capturing or not; when not, the bar empties and the warning goes away."""
        self._active = active
        if not active:
            self.bar.setValue(0)
            self._show_warning("")

    def update_level(self, event: LevelChanged) -> None:
        """Take one LevelChanged event."""
        self.bar.setValue(level_percent(event.rms_dbfs))
        if self._active and event.silent_for_s > SILENCE_WARNING_S:
            self._show_warning(
                f"No audio detected for {int(event.silent_for_s)} s — "
                "check the microphone is connected and not muted."
            )
        else:
            self._show_warning("")

    def warning_text(self) -> str:
        """The warning as shown ('' when hidden)."""
        return self.warning.text() if not self.warning.isHidden() else ""

    def _show_warning(self, text: str) -> None:
        self.warning.setText(text)
        self.warning.setHidden(not text)
        self.warning_icon.setHidden(not text)
