"""A log file that fails mid-run (disk full) is said once, costs no traceback, and comes back.

The full disk is real: the open log's file descriptor is replaced by Linux's /dev/full (every
write fails with ENOSPC), and the log's path leads there too, so reopening it fails the same
way until the "disk" has room again (the path is a plain file once more).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.logs import SharedRotatingFileHandler, configure_logging, on_log_failure, stop_logging

FULL = Path("/dev/full")
pytestmark = pytest.mark.skipif(not FULL.exists(), reason="needs Linux's /dev/full")


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Path]:
    path = configure_logging(tmp_path)
    assert path is not None
    try:
        yield path
    finally:
        stop_logging(path)


def _handler(path: Path) -> SharedRotatingFileHandler:
    [handler] = [
        h
        for h in logging.getLogger("recorder").handlers
        if isinstance(h, SharedRotatingFileHandler) and h.baseFilename == str(path)
    ]
    return handler


def _fill_the_disk(path: Path, handler: SharedRotatingFileHandler) -> Path:
    """Writes through the open log and through a reopened one now fail with ENOSPC."""
    assert handler.stream is not None
    full = os.open(FULL, os.O_WRONLY)
    try:
        os.dup2(full, handler.stream.fileno())
    finally:
        os.close(full)
    kept = path.with_name(path.name + ".before")
    path.rename(kept)
    path.symlink_to(FULL)
    return kept


def test_a_full_disk_is_said_once_without_tracebacks_and_the_log_resumes(
    log: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    told: list[str] = []
    on_log_failure(log, told.append)
    logger = logging.getLogger("recorder.test")
    logger.info("written before the disk filled")
    kept = _fill_the_disk(log, _handler(log))

    for i in range(50):
        logger.warning("lost line %d", i)  # nothing raised to the caller
    assert told == [f"can no longer write the log {log} (No space left on device)"]
    err = capfd.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err, err

    log.unlink()  # room on the disk again: the next line reopens the log
    logger.info("written after the disk had room")
    text = log.read_text()
    assert "50 line(s) lost" in text and "No space left on device" in text
    assert text.index("line(s) lost") < text.index("written after the disk had room")
    assert "lost line" not in text
    assert "written before the disk filled" in kept.read_text()
    assert len(told) == 1  # said once per run
    assert "Logging error" not in capfd.readouterr().err


def test_a_failure_before_anyone_listens_is_told_when_they_do(log: Path) -> None:
    """The app listens only once its window is wired; a failure before that is not lost."""
    _fill_the_disk(log, _handler(log))
    logging.getLogger("recorder.test").info("lost before the app listened")
    told: list[str] = []
    on_log_failure(log, told.append)
    assert told == [f"can no longer write the log {log} (No space left on device)"]


def test_a_bad_log_call_still_gets_pythons_report(
    log: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Only a log that cannot be written is quiet: a programming error is still reported."""
    told: list[str] = []
    on_log_failure(log, told.append)
    bad = logging.LogRecord("recorder.test", logging.INFO, __file__, 1, "%d chunks", ("x",), None)
    _handler(log).handle(bad)  # (pytest's own handler would raise on it first)
    assert "--- Logging error ---" in capfd.readouterr().err
    assert told == []
