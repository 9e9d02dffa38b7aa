"""A log file the app cannot open is said once, as a warning, and never stops a consult.

Practice IT relies on the audit log; a logs folder this user may not write (or, here, a file
where the folder should be) used to leave the app without a log and say nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from recorder.logs import log_path
from tests.fixtures.keyrings import keyring_backend
from tests.ui.file_keyring import FileKeyring
from tests.ui.harness import CLOSED_URL, run_app_main
from ui.main_window import MainWindow
from ui.status_style import Tone


def _window() -> MainWindow | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return next((w for w in found if w.isVisible()), None)


def test_a_log_that_cannot_be_opened_is_a_warning_and_the_app_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HEIDI_BASE_URL", CLOSED_URL)  # uploads wait; nothing else started
    monkeypatch.setenv("HEIDI_API_KEY", "test-key-unwritable-log")
    monkeypatch.setenv("HEIDI_EMAIL", "clinician@example.org")
    monkeypatch.setenv("HEIDI_USER_ID", "ui-log")
    data = Path(os.environ["AMBIENT_RECORDER_DATA_DIR"])  # the root conftest's, per test
    data.mkdir(parents=True, exist_ok=True)
    log_path(data).parent.write_text("not a folder")  # the logs folder cannot be made
    seen: dict[str, Any] = {}

    def poll() -> None:
        window = _window()
        if window is None:
            return
        problem = window.status.last_error()
        if "cannot write the log" in problem:
            seen["problem"] = problem
            seen["tone"] = window.status.error_tone
            window.close_guard = lambda: True
            QApplication.quit()

    # an OS keyring (a real file-backed one): no key-file notice to take the warning's place
    with keyring_backend(FileKeyring(tmp_path / "keyring.json")):
        assert run_app_main(poll, give_up_s=120) == 0
    assert "problem" in seen, "no word about the log it could not open"
    assert str(log_path(data).parent) in seen["problem"]
    assert seen["tone"] is Tone.WARN  # a notice for IT: recording and uploads still work
