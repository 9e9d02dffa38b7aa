"""Ambient Recorder desktop app (PySide6): talks to the core only via `recorder.core` and events."""

from ui import qt_compat as _qt_compat  # first: makes PySide6 6.12 safe on CPython 3.11

__all__ = ["_qt_compat"]
