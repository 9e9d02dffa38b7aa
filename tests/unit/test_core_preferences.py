"""The microphone and language picked are remembered without leaking env overrides to disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recorder.core import AmbientCore
from recorder.settings import load_settings, settings_path


def test_remember_choices_saves_only_the_files_own_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_BASE_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("HEIDI_EMAIL", "from-env@example.org")
    core = AmbientCore(lambda _e: None, data_dir=tmp_path / "data")
    assert core.settings.base_url == "http://127.0.0.1:9/api"  # the override is in effect
    core.remember_choices(input_device="USB mic", language_code="en-AU")
    saved = json.loads(settings_path().read_text())
    assert saved["input_device"] == "USB mic"
    assert saved["language_code"] == "en-AU"
    assert saved["base_url"] == "" and saved["email"] == ""  # env values never written
    assert core.settings.input_device == "USB mic"
    assert load_settings().input_device == "USB mic"
    core.remember_choices(input_device=None, language_code="en-AU")  # back to the default
    assert load_settings().input_device is None
