"""Where data lives: --data-dir, else AMBIENT_RECORDER_DATA_DIR, else the OS user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from recorder.errors import SpoolError

APP_NAME = "AmbientRecorder"
ENV_DATA_DIR = "AMBIENT_RECORDER_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory (spool, journal, logs, key file); created user-only if missing."""
    chosen = override or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP_NAME, False)
    path = Path(chosen).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise SpoolError(
            f"The data folder {path} cannot be used ({error.strerror or error}): "
            "choose another with --data-dir or AMBIENT_RECORDER_DATA_DIR."
        ) from None
    return path


def config_dir() -> Path:
    """The settings directory (settings.json); AMBIENT_RECORDER_CONFIG_DIR overrides it."""
    chosen = os.environ.get("AMBIENT_RECORDER_CONFIG_DIR") or platformdirs.user_config_dir(
        APP_NAME, False
    )
    path = Path(chosen).expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
