"""Settings for a long-running app: unusable settings are a problem to show, never a fallback.

The CLI refuses to run a server command on unusable settings (see
recorder.commands.common.load_settings). The app cannot just refuse: it must still record.
So it loads them here into a `LoadedSettings`: the effective settings when they are usable,
else `problem` (a sentence naming the file or HEIDI_* variable and what is wrong) together
with the values that are still readable, for recording and to fill the Settings dialog.
With a problem the app uploads nothing: silently using the defaults would send the consult
to the local server instead of the practice's Heidi account.

Nothing here writes the settings file: only a Save in the dialog replaces a bad one.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

from recorder.settings import (
    ENV_API_KEY,
    MAX_SETTINGS_BYTES,
    Settings,
    SettingsError,
    effective_settings,
    load_settings,
    settings_path,
    validate_api_key,
)

UPLOADS_WAIT = "Nothing is uploaded until this is fixed; recording works and every chunk is kept."


@dataclass(frozen=True)
class LoadedSettings:
    """What the app runs with; `problem` is None when the settings are usable."""

    settings: Settings
    problem: str | None = None


def load_app_settings() -> LoadedSettings:
    """The effective settings (file + HEIDI_*), or the readable part of them and the problem."""
    try:
        saved = load_settings()
    except SettingsError as error:
        fix = "Correct the values in Settings… and Save to replace the file."
        return LoadedSettings(readable_settings(), _sentence(error, fix))
    try:
        settings = check_environment(saved)
    except SettingsError as error:
        fix = "Correct or unset that environment variable, then restart Ambient Recorder."
        return LoadedSettings(saved, _sentence(error, fix))
    return LoadedSettings(settings)


def check_environment(settings: Settings) -> Settings:
    """`settings` with HEIDI_* applied; SettingsError (naming the variable) if one is unusable."""
    effective = effective_settings(settings)
    key = os.environ.get(ENV_API_KEY)
    if key:
        validate_api_key(key)
    return effective


def readable_settings() -> Settings:
    """The values of a damaged settings file that are usable one by one (defaults for the rest).

    Only for recording and for the dialog to start from, so the practice's values that are
    still right need not be typed again; never used to choose where audio goes.
    """
    try:
        raw = settings_path().read_bytes()[: MAX_SETTINGS_BYTES + 1]
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    usable: dict[str, object] = {}
    for spec in dataclasses.fields(Settings):
        if spec.name in data:
            try:
                Settings.from_json({spec.name: data[spec.name]})
            except SettingsError:
                continue
            usable[spec.name] = data[spec.name]
    try:
        return Settings.from_json(usable)
    except SettingsError:  # usable alone but not together (chunk_min_s > chunk_max_s)
        return Settings()


def _sentence(error: SettingsError, fix: str) -> str:
    text = str(error).rstrip()
    text += "" if text.endswith(".") else "."
    return f"{text} {UPLOADS_WAIT} {fix}"
