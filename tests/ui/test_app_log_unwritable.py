"""A log file the app cannot open or write is said once, as a warning, and never stops a consult.

Practice IT relies on the audit log; a logs folder this user may not write (or, here, a file
where the folder should be) used to leave the app without a log and say nothing; a log that
opens but cannot be written (a full disk) printed Python's "--- Logging error ---" traceback
on stderr for every line, and said nothing in the window.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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


def _logs_folder_is_a_file(data: Path) -> tuple[str, Path]:
    log_path(data).parent.write_text("not a folder")  # the logs folder cannot be made
    return "cannot write the log", log_path(data).parent


def _disk_full_under_the_log(data: Path) -> tuple[str, Path]:
    """The log opens, but no line can be written (Linux's /dev/full: ENOSPC)."""
    log_path(data).parent.mkdir()
    log_path(data).symlink_to("/dev/full")
    return "can no longer write the log", log_path(data)


@pytest.mark.parametrize(
    "breakage",
    [
        _logs_folder_is_a_file,
        pytest.param(
            _disk_full_under_the_log,
            marks=pytest.mark.skipif(not Path("/dev/full").exists(), reason="Linux /dev/full"),
        ),
    ],
    ids=["logs-folder-is-a-file", "disk-full"],
)
def test_a_log_that_cannot_be_written_is_a_warning_and_the_app_runs(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    breakage: Callable[[Path], tuple[str, Path]],
) -> None:
    monkeypatch.setenv("HEIDI_BASE_URL", CLOSED_URL)  # uploads wait; nothing else started
    monkeypatch.setenv("HEIDI_API_KEY", "test-key-unwritable-log")
    monkeypatch.setenv("HEIDI_EMAIL", "clinician@example.org")
    monkeypatch.setenv("HEIDI_USER_ID", "ui-log")
    data = Path(os.environ["AMBIENT_RECORDER_DATA_DIR"])  # the root conftest's, per test
    data.mkdir(parents=True, exist_ok=True)
    words, named = breakage(data)
    seen: dict[str, Any] = {}

    def poll() -> None:
        window = _window()
        if window is None:
            return
        problem = window.status.last_error()
        if words in problem:
            seen["problem"] = problem
            seen["tone"] = window.status.error_tone
            window.close_guard = lambda: True
            QApplication.quit()

    # an OS keyring (a real file-backed one): no key-file notice to take the warning's place
    with keyring_backend(FileKeyring(tmp_path / "keyring.json")):
        assert run_app_main(poll, give_up_s=120) == 0
    assert "problem" in seen, "no word about the log it could not open"
    assert str(named) in seen["problem"]
    assert seen["tone"] is Tone.WARN  # a notice for IT: recording and uploads still work
    err = capfd.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err, err
