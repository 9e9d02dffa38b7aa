"""Ambient Recorder desktop app (PySide6): talks to the core only via `recorder.core` and events."""
