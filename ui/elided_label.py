"""A one-line label that shortens its text with "…" instead of widening the window.

QLabel asks for the width of its whole text, so a long status line set the window's
smallest width (961 px: it could not fit an 800 px screen). This one asks for little, shows
as much as fits, and keeps the whole text in text() (the tooltip shows it to the reader).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

MIN_CHARS = 12  # what stays readable however narrow the window gets, by default


class ElidedLabel(QLabel):
    """Plain text on one line, elided on the right when the space is short."""

    def __init__(
        self, text: str = "", parent: QWidget | None = None, min_chars: int = MIN_CHARS
    ) -> None:
        super().__init__(text, parent)
        self.min_chars = min_chars
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)

    def minimumSizeHint(self) -> QSize:
        """Room for a few characters; the rest is elided."""
        hint = super().minimumSizeHint()
        return QSize(
            min(hint.width(), self.fontMetrics().averageCharWidth() * self.min_chars), hint.height()
        )

    def shown_text(self) -> str:
        """The text as it fits now ('…' at the end when shortened)."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the elided text where QLabel would draw the whole of it."""
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )
