"""An API key in the OS keyring that cannot go into an HTTP header (put there by hand, a
non-breaking space pasted with it): the app says so instead of 'Connected'.

Before, the status bar showed "Connected to Heidi" and every upload then stopped with
"Upload queue problem: 'ascii' codec can't encode character '\\xa0'", chunks left queued.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from recorder.settings import ENV_API_KEY, KEYRING_SERVICE, KEYRING_USERNAME
from tests.fixtures.keyrings import keyring_backend
from tests.ui.file_keyring import FileKeyring
from tests.ui.harness import heidi_settings, running_app


def test_an_unusable_stored_key_is_named_not_connected(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    bad_key = "sk-pract\u00a0ice-key-1234"
    with keyring_backend(FileKeyring(tmp_path / "keyring.json")) as keyring:
        keyring.set_password(KEYRING_SERVICE, KEYRING_USERNAME, bad_key)
        settings = heidi_settings("https://heidi.example/api/v2/ml-scribe/open-api")
        with running_app(qtbot, tmp_path / "data", settings, None) as app:
            status = app.window.status
            app.wait(qtbot, lambda: "keyring is not a usable API key" in status.last_error(), 30)
            assert status.connection.text().startswith("Offline")
            assert bad_key not in status.last_error(), "a key is never shown"
