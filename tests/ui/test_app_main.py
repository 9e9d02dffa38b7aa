"""`ui.app.main()` end to end: builds the app on the real core, shows it, quits cleanly; and
every control a clinician can reach has an accessible name."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from recorder import exit_codes
from tests.ui.harness import run_app_main
from ui.app import main
from ui.main_window import MainWindow


def _window() -> MainWindow | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return next((w for w in found if w.isVisible()), None)


def test_main_shows_the_window_connects_and_quits(
    qtbot: QtBot, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_BASE_URL", local_server.base_url)
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    monkeypatch.setenv("HEIDI_EMAIL", "clinician@example.org")
    monkeypatch.setenv("HEIDI_USER_ID", "ui-main")
    seen: dict[str, str] = {}

    def poll() -> None:
        window = _window()
        if window is None:
            return
        text = window.status.connection.text()
        if text.startswith("Connected to Heidi"):
            seen["status"] = text
            seen["title"] = window.windowTitle()
            window.close()  # idle: the close guard shuts the core down and quits

    code = run_app_main(poll)
    assert code == 0
    assert seen.get("title") == "Ambient Recorder", "the window never connected"
    assert _window() is None


def test_closing_before_the_core_is_ready_quits_without_starting_it(
    qtbot: QtBot, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window shows before the core is built; closing it then just quits, cleanly."""
    data = tmp_path / "data"
    monkeypatch.setenv("AMBIENT_RECORDER_DATA_DIR", str(data))
    seen: dict[str, object] = {}

    def close_at_once() -> None:  # queued before main(): runs before the core is started
        window = _window()
        seen["shown"] = window is not None
        if window is not None:
            seen["record_enabled"] = window.controls.main_button.isEnabled()
            seen["hint"] = window.controls.hint_label.text()
            window.close()

    QTimer.singleShot(0, close_at_once)
    code = main([])
    qtbot.wait(200)  # a startup step queued behind the close must not start the core after all
    assert seen == {"shown": True, "record_enabled": False, "hint": "Starting…"}
    assert code == 0
    assert _window() is None
    assert not (data / "spool").exists(), "the core was started after the window closed"


def test_a_core_that_cannot_start_still_says_why(
    qtbot: QtBot, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unusable data folder: the same 'cannot start' box as before the window came first."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AMBIENT_RECORDER_DATA_DIR", str(blocker / "data"))
    shown: list[str] = []

    def answer_the_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(f"{box.windowTitle()}: {box.text()}")
            box.accept()

    code = run_app_main(answer_the_box, every_ms=50)
    assert code == exit_codes.FAILURE
    assert len(shown) == 1, shown
    assert shown[0].startswith("Ambient Recorder cannot start: The data folder")
    assert str(blocker / "data") in shown[0]
    assert _window() is None


def test_a_missing_dependency_still_ends_the_app_with_its_error(tmp_path: Any) -> None:
    """numpy is loaded after the window shows; without it the app still fails, naming it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    probe = (
        "import sys\n"
        "class NoNumpy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'numpy':\n"
        "            raise ModuleNotFoundError(\"No module named 'numpy'\", name='numpy')\n"
        "sys.meta_path.insert(0, NoNumpy())\n"
        "from ui.app import main\n"
        "sys.exit(main())\n"
    )
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        AMBIENT_RECORDER_DATA_DIR=str(tmp_path / "data"),
        AMBIENT_RECORDER_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=str(repo),
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == "ModuleNotFoundError: No module named 'numpy'", result.stderr[-2000:]


def test_every_control_has_an_accessible_name(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QPlainTextEdit, QProgressBar)
    controls = [w for w in window.findChildren(QWidget) if isinstance(w, kinds)]
    controls = [w for w in controls if w.parent() is not None and not _internal(w)]
    assert len(controls) >= 12
    unnamed = [f"{type(w).__name__} {w.objectName()!r}" for w in controls if not _name(w)]
    assert unnamed == []


def _internal(widget: QWidget) -> bool:
    """Qt's own sub-widgets (scroll-area buttons, a combo's popup list, a table's corner)."""
    if widget.objectName().startswith("qt_"):
        return True
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractItemView | QComboBox) or "ComboBox" in type(parent).__name__:
            return True
        parent = parent.parentWidget()
    return False


def _name(widget: QWidget) -> str:
    if widget.accessibleName():
        return widget.accessibleName()
    return widget.text() if isinstance(widget, QAbstractButton) else ""


def test_sigterm_quits_the_app_cleanly(tmp_path: Any, local_server: Any) -> None:
    """A logout sends SIGTERM: the app shuts the core down and exits 0 (no traceback)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        AMBIENT_RECORDER_DATA_DIR=str(tmp_path / "data"),
        AMBIENT_RECORDER_CONFIG_DIR=str(tmp_path / "config"),
        HEIDI_BASE_URL=local_server.base_url,
        HEIDI_API_KEY=local_server.api_key,
        HEIDI_EMAIL="clinician@example.org",
        HEIDI_USER_ID="ui-sigterm",
        PYTHONPATH=str(repo),
    )
    app = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ui.app import main; sys.exit(main())"],
        env=env,
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    spool = tmp_path / "data" / "spool"
    deadline = time.monotonic() + 60
    while not spool.exists() and app.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)  # the core opens its spool right after the window is up
    time.sleep(0.5)
    assert app.poll() is None, app.communicate()[1][-2000:]
    assert spool.exists()
    app.send_signal(signal.SIGTERM)
    _out, err = app.communicate(timeout=60)
    assert app.returncode == 0, err[-2000:]
    assert "Traceback" not in err
