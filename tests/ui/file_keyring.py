"""A real, file-backed keyring backend for tests on a machine that has no OS keyring.

It implements keyring's KeyringBackend interface and stores passwords in a
JSON file; installed with keyring.set_keyring() for the test process only. The
code under test goes through the real `keyring` API unchanged — this is a real
backend, not a mock.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    """Passwords in one JSON file: {"service\\u0000username": password}."""

    priority = 1

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._lock = threading.Lock()  # one change at a time, as an OS keyring does

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        data: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, str]) -> None:
        # replaced whole, as an OS keyring answers: a reader on another thread (the core
        # storing the spool key while the Settings dialog looks up the API key) never sees
        # a half-written file
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            data = self._load()
            data[f"{service}\0{username}"] = password
            self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            data = self._load()
            if data.pop(f"{service}\0{username}", None) is None:
                raise PasswordDeleteError("not stored")
            self._save(data)
