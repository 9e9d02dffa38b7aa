"""A second launch on the same data folder brings the running app's window forward and ends.

Closing the window while a consult records or uploads hides it to the tray; starting the
app again from the desktop then gave a second app on the same spool (two upload queues on
the same chunks, two Record buttons, one hidden).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from recorder import paths
from tests.ui.harness import CLOSED_URL, REPO, run_app_main
from ui.main_window import MainWindow
from ui.single_instance import ANSWERED, REQUEST_NAME, SingleInstance

SECOND_LAUNCH = "import sys; from ui.app import main; sys.exit(main([]))"


def _windows() -> list[MainWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]


def test_a_second_launch_shows_the_hidden_window_and_ends(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_BASE_URL", CLOSED_URL)  # uploads wait; nothing else started
    monkeypatch.setenv("HEIDI_API_KEY", "test-key-single-instance")
    monkeypatch.setenv("HEIDI_EMAIL", "clinician@example.org")
    monkeypatch.setenv("HEIDI_USER_ID", "ui-single")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    seen: dict[str, Any] = {}
    earlier = set(_windows())  # an earlier test's window may not be freed yet: not this app's

    def poll() -> None:
        if seen.get("window") is None:  # kept: the test hides it later
            seen["window"] = next((w for w in _windows() if w not in earlier), None)
        window = seen["window"]
        if window is None or not window.status.connection.text().startswith("Connected"):
            return  # the first app is up (its core started) before the second launch
        second = seen.get("second")
        if second is None:
            window.hide()  # as when closed to the tray while chunks wait to upload
            seen["second"] = subprocess.Popen(
                [sys.executable, "-c", SECOND_LAUNCH],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            seen["started"] = time.monotonic()
            return
        if second.poll() is None and time.monotonic() - seen["started"] < 60:
            return
        seen["shown"] = window.isVisible()
        window.close_guard = lambda: True
        QApplication.quit()

    try:
        code = run_app_main(poll, give_up_s=120)
    finally:
        if seen.get("second") is not None and seen["second"].poll() is None:
            seen["second"].kill()  # a second app that did not end by itself
    second = seen.get("second")
    assert second is not None, "the first app never came up"
    output = second.communicate(timeout=60)[0].decode(errors="replace")
    assert second.returncode == 0, output
    assert seen.get("shown") is True, "the hidden window was not brought back"
    assert (paths.data_dir() / REQUEST_NAME).read_bytes() == ANSWERED
    assert code == 0


def test_a_lock_that_cannot_be_made_is_not_another_app(qtbot: QtBot, tmp_path: Path) -> None:
    """No lock file possible (here: the folder is gone; for a clinician, one they may not
    write) must not say "already running" and end: the app starts and the core names the
    folder's problem. A lock another app holds still refuses."""
    assert SingleInstance(tmp_path / "gone").claim() is True
    first, second = SingleInstance(tmp_path), SingleInstance(tmp_path)
    assert first.claim() is True
    try:
        assert second.claim() is False
    finally:
        first.release()
    assert second.claim() is True  # released: the next launch runs
    second.release()
