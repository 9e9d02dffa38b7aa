"""The "No OS keyring" notice is a warning for IT, not a failure: shown in the warning tone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QStyle
from pytestqt.qtbot import QtBot

from recorder.crypto import KEY_FILE_WARNING
from recorder.events import ErrorOccurred
from tests.fixtures.keyrings import keyring_backend
from tests.ui.harness import heidi_settings, running_app
from ui import status_style
from ui.status_bar import StatusBar
from ui.status_style import Tone


@pytest.fixture
def no_os_keyring() -> Iterator[None]:
    """The machine has no OS keyring (keyring's own 'fail' backend): the key goes to a file."""
    with keyring_backend(fail.Keyring()):
        yield


def _icon_image(bar: StatusBar, tone: Tone) -> QImage:
    size = bar.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
    return status_style.icon(tone).pixmap(size, size).toImage()


def test_the_key_file_notice_shows_as_a_warning(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    no_os_keyring: None,
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, tmp_path / "data", settings, None) as app:
        status = app.window.status
        app.wait(qtbot, lambda: status.last_error().startswith("No OS keyring is available"), 20)
        assert str(tmp_path / "data") in status.last_error()
        assert status.error_tone is Tone.WARN
        assert status.error_icon.isVisible()
        shown = status.error_icon.pixmap().toImage()
        assert shown == _icon_image(status, Tone.WARN)
        assert shown != _icon_image(status, Tone.BAD)
        # the app's own notice after start (ui/app.py: the log cannot be written) joins it
        log = "The app cannot write the log /data/logs: it records and uploads, without a log."
        app.bridge.emit_event(ErrorOccurred(log, where="log", severity="warning"))
        app.wait(qtbot, lambda: log in status.last_error(), 10)
        assert status.last_error().startswith("No OS keyring is available"), "both kept"
        assert "2 notices" in status.error.text() and log in status.error.accessibleName()
        assert status.error_tone is Tone.WARN


def test_errors_stay_errors_and_only_warnings_are_warnings(qtbot: QtBot, tmp_path: Path) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    notice = KEY_FILE_WARNING.format(path=tmp_path)
    bar.show_problem(ErrorOccurred(notice, where="spool", severity="warning"))
    assert bar.error_tone is Tone.WARN
    bar.show_problem(ErrorOccurred("The spool folder cannot be written: disk full", "spool"))
    assert bar.error_tone is Tone.BAD
    bar.show_problem(ErrorOccurred(notice, where="spool"))  # the words alone do not decide
    assert bar.error_tone is Tone.BAD
    failure = "Cannot save the transcript to /nowhere/out.txt: No such file or directory"
    bar.show_error(failure)
    bar.show_problem(ErrorOccurred(notice, where="spool", severity="warning"))
    assert bar.last_error() == failure  # a notice arriving later does not hide the failure
    assert bar.error_tone is Tone.BAD
