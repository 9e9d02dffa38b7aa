"""Log to a rotating file in the data dir, for practice IT: events and errors, never patient data.

What is logged is decided at each call site (ids, counts, states, error classes);
no transcript text, patient reference or audio is ever passed to a logger.
`tests/integration/test_cli_upload.py` checks the log after a full consult.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "ambient-recorder.log"
_configured: set[Path] = set()


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_NAME


def configure_logging(data_dir: Path, level: int = logging.INFO) -> Path | None:
    """Send the `recorder`, `server` and `ui` loggers to the rotating log file (once per dir)."""
    path = log_path(data_dir)
    if path in _configured:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None  # an unwritable data dir is reported by the spool, with a clear message
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    for name in ("recorder", "server", "ui"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
    _configured.add(path)
    return path
