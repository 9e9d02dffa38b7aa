"""Root conftest: registers the shared fixture plugins and keeps tests off the user's real data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.vmic",
    "tests.fixtures.local_server",
    "tests.fixtures.fault_proxy",
]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PULSE_RUNTIME_PATH", "/tmp/ambient-pulse")
# never touch a developer's real keyring; tests that need one install their own backend
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test gets its own data and config dir, so none touches a real user's spool or key."""
    base = tmp_path_factory.mktemp("user")
    saved = {
        k: os.environ.get(k) for k in ("AMBIENT_RECORDER_DATA_DIR", "AMBIENT_RECORDER_CONFIG_DIR")
    }
    os.environ["AMBIENT_RECORDER_DATA_DIR"] = str(Path(base) / "data")
    os.environ["AMBIENT_RECORDER_CONFIG_DIR"] = str(Path(base) / "config")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
