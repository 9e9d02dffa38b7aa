"""Log to a rotating file in the data dir, for practice IT: events and errors, never patient data.

What is logged is decided at each call site (ids, counts, states, error classes);
no transcript text, patient reference or audio is ever passed to a logger.
The audit trail for IT is the `audit:` lines (`audit()`): one event name and key=value fields
holding ids, counts, durations, modes, hosts and field names only, never values of secrets.
`tests/integration/test_cli_upload.py` and `tests/ui/test_app_log.py` check the log after a
full consult.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

LOG_NAME = "ambient-recorder.log"
MAX_BYTES = 2_000_000
BACKUP_COUNT = 3
AUDIT_PREFIX = "audit:"
_configured: dict[Path, SharedRotatingFileHandler] = {}
_refused: dict[Path, OSError] = {}  # why a log could not be opened, by its path
_audit_log = logging.getLogger("recorder.audit")

AuditValue = str | int | float | bool | None


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_NAME


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotation that never costs a log line, and a log that fails mid-run without noise.

    The app and a CLI command (`spool`, `resume`) may write the same file at once. On Windows
    a file another process holds open cannot be renamed, and the standard handler then drops
    the line it was about to write (and every later one). Here a refused rotation keeps
    writing to the current file and is tried again at the next line.

    A log that stops being written (disk full, file or folder removed or made read-only, I/O
    error) would make Python print "--- Logging error ---" and a traceback on stderr for every
    line. Here `handleError` counts the line as lost, tells `on_failure` once per run, and
    reopens the file at the next line: once it can be written again, a line says how many
    were lost since when, and logging goes on. Nothing is raised to the code that logged.
    """

    on_failure: Callable[[str], None] | None = None  # told once, with the path and the reason
    _error: OSError | None = None  # why the line being written failed
    _failure: OSError | None = None  # why the log stopped (None while it works)
    _failed_at = 0.0
    _lost = 0  # lines not written since it stopped
    _told = False

    def doRollover(self) -> None:
        try:
            super().doRollover()
        except OSError:
            if self.stream is None:  # closed by the failed rotation: append to it again
                self.stream = self._open()

    def emit(self, record: logging.LogRecord) -> None:
        if self._failure is not None:  # stopped before: resume only if the gap can be told
            if not self._write(self._gap_record()):
                self._lost += 1
                return
            self._failure, self._lost = None, 0
        if not self._write(record):
            if self._failure is None:
                self._failure, self._failed_at = self._error, time.time()
                self._tell()
            self._lost += 1

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):  # a bad log call (format, arguments): Python's report
            super().handleError(record)
            return
        self._error = error
        stream, self.stream = self.stream, None  # reopened at the next line
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # flushing the failed line fails again
                stream.close()

    def set_on_failure(self, tell: Callable[[str], None]) -> None:
        """Call `tell(problem)` once if the log stops being written (now, if it already has)."""
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self.on_failure = tell
            if self._failure is not None:
                self._tell()

    def _write(self, record: logging.LogRecord) -> bool:
        self._error = None
        super().emit(record)  # calls handleError on failure
        return self._error is None

    def _tell(self) -> None:
        if self._told or self.on_failure is None or self._failure is None:
            return
        self._told = True  # once per run: a disk that fills and frees again is not news each time
        reason = _reason(self._failure)
        with contextlib.suppress(Exception):  # telling must never break logging
            self.on_failure(f"can no longer write the log {self.baseFilename} ({reason})")

    def _gap_record(self) -> logging.LogRecord:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self._failed_at))
        reason = _reason(self._failure) if self._failure is not None else "unknown"
        return logging.LogRecord(
            __name__,
            logging.WARNING,
            __file__,
            0,
            "the log could not be written since %s (%s): %d line(s) lost",
            (since, reason, self._lost),
            None,
        )


def configure_logging(data_dir: Path, level: int = logging.INFO) -> Path | None:
    """Send the `recorder`, `server` and `ui` loggers to the rotating log file (once per dir)."""
    path = log_path(data_dir)
    if path in _configured:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = SharedRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as error:
        _refused[path] = error  # the caller says so (log_problem): it must not stop a consult
        return None  # an unwritable data dir is reported by the spool, with a clear message
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    for name in ("recorder", "server", "ui"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
    _configured[path] = handler
    return path


def log_problem(data_dir: Path) -> str | None:
    """Why configure_logging(data_dir) could not open the log, naming the path; else None."""
    error = _refused.get(log_path(data_dir))
    if error is None:
        return None
    where = error.filename or log_path(data_dir)
    return f"cannot write the log {where} ({error.strerror or error})"


def on_log_failure(path: Path, tell: Callable[[str], None]) -> None:
    """Have `tell(problem)` called once if the log configured at `path` stops being written
    mid-run (disk full, removed, read-only): the CLI prints a warning, the app shows one."""
    handler = _configured.get(path)
    if handler is not None:
        handler.set_on_failure(tell)


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def stop_logging(path: Path) -> None:
    """Detach and close the log file configured at `path` (the app at exit; tests run several)."""
    handler = _configured.pop(path, None)
    if handler is None:
        return
    for name in ("recorder", "server", "ui"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def audit(event: str, level: int = logging.INFO, **fields: AuditValue) -> None:
    """One audit line for IT: `audit: <event> key=value ...`.

    Callers pass ids, counts, durations, modes, hosts and field names only: never a patient
    reference, transcript text, audio, or a key, token or password.
    """
    if not _audit_log.isEnabledFor(level):
        return
    parts = [AUDIT_PREFIX, event]
    for key, value in fields.items():
        if value is not None:  # a field that does not apply is left out
            parts.append(f"{key}={_field(value)}")
    _audit_log.log(level, "%s", " ".join(parts))


def _field(value: str | int | float | bool) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    if not text or any(c.isspace() or c == '"' for c in text):
        return '"' + text.replace('"', "'") + '"'  # one field, even for a path with spaces
    return text


def url_host(url: str | None) -> str:
    """The host[:port] of a URL: where uploads go, without path, user or password."""
    if not url:
        return "-"
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        host = parts.hostname or "-"
        port = parts.port
    except ValueError:
        return "unparsable"
    return f"{host}:{port}" if port else host


def log_started(program: str, data_dir: Path, version: str, command: str | None = None) -> None:
    """The first audit line of a run: which program and version, its data dir, its process."""
    audit(
        "start",
        program=program,
        command=command,
        version=version,
        pid=os.getpid(),
        platform=sys.platform,
        data_dir=str(data_dir),
    )
