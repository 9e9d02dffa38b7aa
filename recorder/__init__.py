"""Ambient Recorder core: capture, chunking, encrypted spool, upload and transcript.

This package never imports Qt (tests/unit/test_core_is_qt_free.py checks it):
the desktop app in `ui/` and the command line in `recorder.cli` consume the
same plain event objects from `recorder.events`.
"""

__version__ = "0.1.0"
