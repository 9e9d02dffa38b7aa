"""Colours and icons for states: always paired with text, readable on light and dark palettes.

Colours are translucent tints laid over the palette's own base colour, so the
text keeps the palette's foreground colour and stays legible in both themes.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle


class Tone(Enum):
    """What a state means to the user, independent of its wording."""

    NEUTRAL = "neutral"
    ACTIVE = "active"
    GOOD = "good"
    WARN = "warn"
    BAD = "bad"


_TINTS: dict[Tone, QColor | None] = {
    Tone.NEUTRAL: None,
    Tone.ACTIVE: QColor(66, 133, 244, 60),
    Tone.GOOD: QColor(52, 168, 83, 60),
    Tone.WARN: QColor(251, 188, 5, 80),
    Tone.BAD: QColor(234, 67, 53, 80),
}

_ICONS: dict[Tone, QStyle.StandardPixmap] = {
    Tone.NEUTRAL: QStyle.StandardPixmap.SP_FileIcon,
    Tone.ACTIVE: QStyle.StandardPixmap.SP_BrowserReload,
    Tone.GOOD: QStyle.StandardPixmap.SP_DialogApplyButton,
    Tone.WARN: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Tone.BAD: QStyle.StandardPixmap.SP_MessageBoxCritical,
}

# Foreground colours for short status words on the window background; mid-tones
# chosen to keep contrast on both a white and a near-black background.
_TEXT: dict[Tone, str] = {
    Tone.NEUTRAL: "",
    Tone.ACTIVE: "#3b82f6",
    Tone.GOOD: "#22a052",
    Tone.WARN: "#d08a00",
    Tone.BAD: "#e0443a",
}


def tint(tone: Tone) -> QColor | None:
    """Background tint for a table cell, or None for the palette default."""
    return _TINTS[tone]


def icon(tone: Tone) -> QIcon:
    """A standard icon for the tone, so state is never shown by colour alone."""
    return QApplication.style().standardIcon(_ICONS[tone])


def text_colour(tone: Tone) -> str:
    """A CSS colour for a status label, empty for the palette default."""
    return _TEXT[tone]
