"""Log to a rotating file in the data dir, for practice IT: events and errors, never patient data.

What is logged is decided at each call site (ids, counts, states, error classes);
no transcript text, patient reference or audio is ever passed to a logger.
The audit trail for IT is the `audit:` lines (`audit()`): one event name and key=value fields
holding ids, counts, durations, modes, hosts and field names only, never values of secrets.
`tests/integration/test_cli_upload.py` and `tests/ui/test_app_log.py` check the log after a
full consult.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

LOG_NAME = "ambient-recorder.log"
MAX_BYTES = 2_000_000
BACKUP_COUNT = 3
AUDIT_PREFIX = "audit:"
_configured: dict[Path, logging.Handler] = {}
_refused: dict[Path, OSError] = {}  # why a log could not be opened, by its path
_audit_log = logging.getLogger("recorder.audit")

AuditValue = str | int | float | bool | None


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_NAME


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotation that never costs a log line.

    The app and a CLI command (`spool`, `resume`) may write the same file at once. On Windows
    a file another process holds open cannot be renamed, and the standard handler then drops
    the line it was about to write (and every later one). Here a refused rotation keeps
    writing to the current file and is tried again at the next line.
    """

    def doRollover(self) -> None:
        try:
            super().doRollover()
        except OSError:
            if self.stream is None:  # closed by the failed rotation: append to it again
                self.stream = self._open()


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
