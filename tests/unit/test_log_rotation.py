"""The log file rotates at its size limit, and a rotation that is refused loses no line.

A refused rotation is made real here by folders where the old log files go (on Windows a
rename is refused the same way while another process, the app or a CLI command, has the
file open).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.logs import SharedRotatingFileHandler, configure_logging, log_path, stop_logging


@pytest.fixture
def small_log(tmp_path: Path) -> Iterator[Path]:
    """The real configured log of a data dir, with a size limit small enough for a test."""
    path = configure_logging(tmp_path)
    assert path is not None
    handlers = [
        h
        for h in logging.getLogger("recorder").handlers
        if isinstance(h, SharedRotatingFileHandler) and h.baseFilename == str(path)
    ]
    assert len(handlers) == 1
    handlers[0].maxBytes = 2_000
    try:
        yield path
    finally:
        stop_logging(path)


def _write(count: int) -> list[str]:
    lines = [f"test line {i:04d}" for i in range(count)]
    for line in lines:
        logging.getLogger("recorder.test").info(line)
    return lines


def test_the_log_rotates_at_its_size_limit(small_log: Path) -> None:
    lines = _write(150)
    backups = sorted(small_log.parent.glob(small_log.name + ".*"))
    assert [b.name for b in backups] == [f"{small_log.name}.{i}" for i in (1, 2, 3)]
    kept = small_log.read_text() + "".join(b.read_text() for b in backups)
    assert lines[-1] in small_log.read_text()
    assert small_log.stat().st_size <= 2_000
    assert lines[0] not in kept, "only 3 old files are kept"


def test_a_refused_rotation_loses_no_line(
    small_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index in (1, 2, 3):  # folders where the old logs go: no rename can make room
        blocker = small_log.parent / f"{small_log.name}.{index}"
        blocker.mkdir()
        (blocker / "keep").write_text("a folder cannot be replaced by an old log")
    lines = _write(150)
    text = small_log.read_text()
    assert all(line in text for line in lines)
    assert small_log.stat().st_size > 2_000  # it grew past the limit instead of losing lines
    assert "Logging error" not in capsys.readouterr().err
    assert log_path(small_log.parent.parent) == small_log
