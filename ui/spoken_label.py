"""A status label whose accessible name says what it is and what it shows now.

A QLabel with an accessible name is read by a screen reader by that name alone: "Recorded
time", "Connection status", never the time or the status itself (its text is not exposed
once a name is set). These labels say both: "Recorded time: 3:25".
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


def spoken(role: str, text: str) -> str:
    """What a screen reader says for a status label showing `text`."""
    return f"{role}: {text}" if text.strip() else role


class SpokenLabel(QLabel):
    """A QLabel for a changing status; `role` names it, the accessible name follows the text."""

    def __init__(self, role: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setText(text)

    def setText(self, text: str) -> None:
        """Show `text` and give it to screen readers with the label's role."""
        super().setText(text)
        name = spoken(self.role, text)
        if name != self.accessibleName():  # the clock is set many times a second
            self.setAccessibleName(name)

    def clear(self) -> None:
        """Show nothing; a screen reader then hears the role alone."""
        self.setText("")
