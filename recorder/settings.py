"""User settings: a small JSON file for the plain values, the OS keyring for the secrets.

The API key and the proxy password never go into settings.json (a proxy password in an
older file is used as is and moves to the keyring on the next Save). Env vars HEIDI_BASE_URL,
HEIDI_API_KEY, HEIDI_EMAIL and HEIDI_USER_ID override for headless use.
An empty base URL means "no Heidi account": the local server is used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from recorder.atomic_file import write_atomically
from recorder.heidi.errors import ConfigError
from recorder.heidi.urls import validate_base_url
from recorder.paths import config_dir

log = logging.getLogger(__name__)

KEYRING_SERVICE = "AmbientRecorder"
KEYRING_USERNAME = "heidi-api-key"
KEYRING_PROXY_USERNAME = "proxy-password"
ENV_BASE_URL = "HEIDI_BASE_URL"
ENV_API_KEY = "HEIDI_API_KEY"
ENV_EMAIL = "HEIDI_EMAIL"
ENV_USER_ID = "HEIDI_USER_ID"
CHUNK_LIMITS_S = (45.0, 60.0)
SETTINGS_FILE = "settings.json"
MAX_SETTINGS_BYTES = 1_000_000
# BCP 47 shaped: en, en-AU, zh-Hant-TW (the same shape the local server accepts)
LANGUAGE_CODE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}", re.ASCII)


MAX_RECONNECT_MINUTES = 24 * 60.0  # a whole day; longer is a recording nobody is attending


class SettingsError(ConfigError):
    """settings.json or a value in it is unusable; the message names the field."""


class NoKeyringError(SettingsError):
    """This computer has no secure password store; HEIDI_API_KEY still works."""


class KeyringUnusableError(SettingsError):
    """The password store is there but failed (locked, its service crashed, a D-Bus error):
    what it holds is unknown, which is neither "no key stored" nor a key."""


def keyring_failure(error: BaseException, what: str = "is not usable") -> str:
    """A failing password store in plain words. Any exception counts: a backend raises its own
    (a broken Secret Service raised RuntimeError or a D-Bus error, not keyring's KeyringError)."""
    detail = str(error).strip() or "no reason given"
    return f"The password store (OS keyring) {what}: {detail} ({type(error).__name__})"


@dataclass
class Settings:
    """Everything the user can set, with safe defaults."""

    base_url: str = ""  # empty: no Heidi account, use the local server
    region: str = ""  # a label for the user (AU, US, CA, EU, UK); the URL is what counts
    email: str = ""
    user_id: str = ""  # the third-party internal id Heidi binds the JWT to
    proxy_url: str | None = None  # else the environment's proxy variables
    ca_bundle: str | None = None  # extra PEM CA file (TLS-inspecting practice proxy)
    chunk_min_s: float = 45.0
    chunk_max_s: float = 60.0
    retention_hours: float = 24.0
    require_consent: bool = True
    # how long a lost microphone is waited for before the recording ends (chunks kept); 0: at once
    reconnect_minutes: float = 10.0
    input_device: str | None = None
    language_code: str = "en"

    @property
    def uses_local_server(self) -> bool:
        return not self.base_url.strip()

    def validate(self) -> Settings:
        """Self, if every value is usable; else SettingsError naming the first bad one."""
        low, high = CHUNK_LIMITS_S
        for name in ("chunk_min_s", "chunk_max_s"):
            value = getattr(self, name)
            if not low <= value <= high:
                raise SettingsError(f"{name} must be between {low:g} and {high:g} seconds.")
        if self.chunk_min_s > self.chunk_max_s:
            raise SettingsError("chunk_min_s must not be larger than chunk_max_s.")
        if not math.isfinite(self.retention_hours) or self.retention_hours < 0:
            raise SettingsError("retention_hours must be 0 or more.")
        if not 0 <= self.reconnect_minutes <= MAX_RECONNECT_MINUTES:  # nan fails too
            raise SettingsError(
                f"reconnect_minutes must be between 0 and {MAX_RECONNECT_MINUTES:g} minutes."
            )
        if self.base_url.strip():
            try:
                self.base_url = validate_base_url(self.base_url)
            except ConfigError as error:
                raise SettingsError(str(error)) from None
        if self.proxy_url:
            try:
                validate_proxy_url(self.proxy_url)
            except ConfigError as error:
                raise SettingsError(str(error)) from None
        if self.ca_bundle and not Path(self.ca_bundle).expanduser().is_file():
            if Path(self.ca_bundle).expanduser().is_dir():  # "does not exist" misled IT
                raise SettingsError(
                    f"The CA bundle must be a certificate file, not a folder: {self.ca_bundle}"
                )
            raise SettingsError(f"The CA bundle file does not exist: {self.ca_bundle}")
        self.language_code = validate_language_code(self.language_code)
        return self

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Settings:
        """Build from parsed JSON, checking each type; unknown keys are ignored."""
        if not isinstance(data, dict):
            raise SettingsError("The settings file does not hold a JSON object.")
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in data:
                continue
            values[spec.name] = _check_type(spec.name, data[spec.name], spec.default)
        return cls(**values).validate()


def validate_language_code(code: str) -> str:
    """The code without surrounding spaces, or SettingsError if it is not shaped like en / en-AU."""
    text = code.strip()
    if not text:
        raise SettingsError("language_code must not be empty.")
    if not LANGUAGE_CODE_RE.fullmatch(text):
        raise SettingsError(f"The language code must look like en or en-AU, not {code!r}.")
    return text


def validate_proxy_url(url: str) -> None:
    """ConfigError unless `url` is a proxy httpx can use; the message never repeats a password
    typed into it (the dialog shows it, a screenshot may go to IT)."""
    shown = _without_password(url.strip())
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise ConfigError(f"The proxy address is not a valid URL: {shown!r}") from None
    if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
        raise ConfigError(f"The proxy address must look like http://host:port: {shown!r}")


def _without_password(url: str) -> str:
    """`url` with anything between '://' and the last '@' of its host part replaced by '…'."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    host = authority.rpartition("@")[2]
    return f"{scheme}{sep}…@{host}{slash}{path}"


def _check_type(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{name} must be true or false.")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{name} must be a number.")
        return float(value)
    if value is None and default is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be text.")
    return value


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load_settings() -> Settings:
    """The saved settings, defaults if none were saved; SettingsError if the file is unusable."""
    try:
        path = settings_path()
    except OSError as error:
        raise SettingsError(
            f"The settings folder cannot be used ({error.strerror or error}): check "
            "AMBIENT_RECORDER_CONFIG_DIR."
        ) from None
    try:
        raw = path.read_bytes()[: MAX_SETTINGS_BYTES + 1]
    except FileNotFoundError:
        return Settings()
    except OSError as error:
        raise SettingsError(f"Cannot read the settings file {path}: {error.strerror}") from None
    if len(raw) > MAX_SETTINGS_BYTES:
        raise SettingsError(f"The settings file {path} is too large to be settings.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SettingsError(
            f"The settings file {path} is damaged (not JSON); fix or delete it."
        ) from None
    try:
        return Settings.from_json(data)
    except SettingsError as error:
        raise SettingsError(f"{error} (in {path})") from None


def save_settings(settings: Settings) -> Path:
    """Validate, then write atomically (temp file + fsync + rename); readable by the user only."""
    settings.validate()
    path = settings_path()
    text = json.dumps(settings.to_json(), indent=2, sort_keys=True)
    try:
        write_atomically(path, text.encode("utf-8"), mode=0o600)
    except OSError as error:
        raise SettingsError(f"Cannot save the settings to {path}: {error.strerror}") from None
    return path


def effective_settings(settings: Settings | None = None) -> Settings:
    """Saved settings (or the ones given) with the HEIDI_* environment variables applied."""
    base = dataclasses.replace(settings) if settings is not None else load_settings()
    env_url = os.environ.get(ENV_BASE_URL)
    if env_url is not None:
        base.base_url = env_url.strip()
        if base.base_url:
            try:
                validate_base_url(base.base_url)
            except ConfigError as error:
                raise SettingsError(f"{ENV_BASE_URL}: {error}") from None
    base.email = os.environ.get(ENV_EMAIL, base.email)
    base.user_id = os.environ.get(ENV_USER_ID, base.user_id)
    return base.validate()


def validate_api_key(key: str, where: str = ENV_API_KEY) -> str:
    """The key, if it can go into an HTTP header (printable ASCII, no spaces); never echoed."""
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise SettingsError(
            f"{where} is not a usable API key: it must be printable ASCII without spaces "
            "(copy it again from the Heidi developer portal)."
        )
    return key


def get_api_key() -> str | None:
    """HEIDI_API_KEY if set, else the keyring entry; None if neither (or no keyring exists).

    KeyringUnusableError when the password store fails: a key may be stored, so "no key"
    would be wrong (and a Save acting on it could replace the key unseen)."""
    from_env = os.environ.get(ENV_API_KEY)
    if from_env:
        return from_env
    return _read_keyring(KEYRING_USERNAME)


def _read_keyring(username: str) -> str | None:
    """Our keyring entry `username`; None if empty or no keyring exists, KeyringUnusableError
    if the store fails (whatever the backend raises: something may be stored)."""
    import keyring.errors  # on first use: keyring loads its backends (~40 ms)

    try:
        return keyring.get_password(KEYRING_SERVICE, username) or None
    except keyring.errors.NoKeyringError:
        return None
    except Exception as error:  # any backend failure, whatever it raises
        raise KeyringUnusableError(keyring_failure(error)) from error


def set_api_key(key: str | None) -> None:
    """Store (or, with None/empty, delete) the API key in the OS keyring."""
    import keyring.errors

    try:
        if key:
            keyring.set_password(KEYRING_SERVICE, KEYRING_USERNAME, key)
        else:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, KEYRING_USERNAME)
    except keyring.errors.NoKeyringError:
        raise NoKeyringError(
            "This computer has no secure password store for the API key; "
            f"set the {ENV_API_KEY} environment variable instead."
        ) from None
    except Exception as error:  # any backend failure, whatever it raises
        refused = keyring_failure(error, "refused the API key")
        raise KeyringUnusableError(refused) from None


def keyring_problem() -> str | None:
    """A sentence for the UI when no usable keyring backend exists; None when one does."""
    import keyring.errors

    try:
        keyring.get_password(KEYRING_SERVICE, KEYRING_USERNAME)
    except keyring.errors.NoKeyringError:
        return (
            "No secure password store is available: the API key cannot be saved. "
            f"Set {ENV_API_KEY} instead."
        )
    except Exception as error:  # any backend failure, whatever it raises
        return keyring_failure(error)
    return None


def split_proxy_password(url: str | None) -> tuple[str | None, str | None]:
    """(`url` without its password, the password or None): what settings.json may hold."""
    if not url:
        return url, None
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url, None
    if password is None:
        return url, None
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), unquote(password)


def with_proxy_password(url: str, password: str) -> str:
    """`url` (with a user name, without a password) carrying `password` for the HTTP client."""
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    if not user:
        raise SettingsError(
            "A proxy password needs the proxy user name in the address: http://user@host:port"
        )
    secret = quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:{secret}@{host}"))


def proxy_url_for_client(url: str | None) -> str | None:
    """The proxy URL the HTTP client gets: the stored password put back (keyring read here,
    only when the URL names a user and holds no password itself); never logged."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        if parts.password is not None or not parts.username:
            return url
    except ValueError:
        return url
    password = get_proxy_password()
    return with_proxy_password(url, password) if password else url


def get_proxy_password() -> str | None:
    """The proxy password in the keyring; None if none (or no keyring exists).

    KeyringUnusableError when the password store fails (one may be stored)."""
    return _read_keyring(KEYRING_PROXY_USERNAME)


def set_proxy_password(password: str | None) -> None:
    """Store (or, with None/empty, delete) the proxy password in the OS keyring.

    Deleting where no keyring exists is nothing to do (there is nothing stored); where the
    store fails, it is logged and left (nothing typed is lost: no proxy is used now)."""
    import keyring.errors

    try:
        if password:
            keyring.set_password(KEYRING_SERVICE, KEYRING_PROXY_USERNAME, password)
        else:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, KEYRING_PROXY_USERNAME)
    except keyring.errors.NoKeyringError:
        if not password:
            return
        raise NoKeyringError(
            "This computer has no secure password store for the proxy password; leave the "
            "Proxy field empty and set the HTTPS_PROXY environment variable instead."
        ) from None
    except Exception as error:  # any backend failure, whatever it raises
        if not password:
            log.warning("%s", keyring_failure(error, "did not delete the proxy password"))
            return
        refused = keyring_failure(error, "refused the proxy password")
        raise KeyringUnusableError(refused) from None
