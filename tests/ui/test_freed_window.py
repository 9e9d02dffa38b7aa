"""A background job that outlives its window: its outcome must not touch freed Qt objects.

CI failed once on this: a test's window was closed (starting the core shutdown off the GUI
thread) and freed before the shutdown reported back; the report then called
`window.close()` on the freed window and Qt's event loop raised "Internal C++ object
(MainWindow) already deleted".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject
from pytestqt.qtbot import QtBot

from ui.close_guard import CloseGuard
from ui.main_window import MainWindow
from ui.worker import run_in_background, wait_for_background


def _job_held_until(release: threading.Event, fail: bool = False) -> Callable[[], str]:
    def job() -> str:
        assert release.wait(30), "the test never released the job"
        if fail:
            raise OSError("disk gone")
        return "done"

    return job


def test_a_result_for_a_freed_owner_is_dropped_and_a_live_owner_gets_its_own(
    qtbot: QtBot,
) -> None:
    freed, kept = QObject(), QObject()
    got: list[tuple[str, object]] = []
    release = threading.Event()
    run_in_background(_job_held_until(release), lambda r: got.append(("freed", r)), owner=freed)
    run_in_background(_job_held_until(release), lambda r: got.append(("kept", r)), owner=kept)
    shiboken6.delete(freed)
    release.set()
    assert wait_for_background()
    qtbot.waitUntil(lambda: got != [], timeout=10_000)
    QCoreApplication.processEvents()
    assert got == [("kept", "done")]


def test_an_error_for_a_freed_owner_is_logged_not_lost(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    owner = QObject()
    shown: list[BaseException] = []
    release = threading.Event()
    run_in_background(_job_held_until(release, fail=True), None, shown.append, owner=owner)
    shiboken6.delete(owner)
    release.set()
    with caplog.at_level(logging.WARNING, logger="ui.worker"):
        assert wait_for_background()
        qtbot.waitUntil(lambda: "disk gone" in caplog.text, timeout=10_000)
    assert shown == []
    assert "after its window closed" in caplog.text


def test_the_app_still_quits_when_its_window_is_freed_during_the_shutdown(qtbot: QtBot) -> None:
    window = MainWindow()  # not handed to qtbot: this test frees it itself
    quits: list[int] = []
    release = threading.Event()

    def shutdown_core(on_done: Callable[[], None]) -> None:  # as the controller's, no owner
        run_in_background(_job_held_until(release), lambda _r: on_done())

    guard = CloseGuard(window, None, lambda: "", shutdown_core, quit_app=lambda: quits.append(1))
    window.show()
    assert not window.close(), "idle: the window closes once the core is shut down"
    assert guard.quitting
    shiboken6.delete(window)  # freed while the shutdown still runs
    release.set()
    assert wait_for_background()
    qtbot.waitUntil(lambda: quits == [1], timeout=10_000)
    assert guard.finished
