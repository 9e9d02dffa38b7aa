"""Settings: validation, atomic JSON round trip, env overrides, API key in the keyring only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from recorder.heidi.errors import ConfigError
from recorder.heidi.urls import validate_base_url
from recorder.settings import (
    KeyringUnusableError,
    NoKeyringError,
    Settings,
    SettingsError,
    effective_settings,
    get_api_key,
    keyring_problem,
    load_settings,
    save_settings,
    set_api_key,
    set_proxy_password,
    settings_path,
)
from tests.fixtures.keyrings import keyring_backend


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-process keyring backend (the OS stores are not available headless)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with keyring_backend(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
def no_keyring() -> Iterator[None]:
    with keyring_backend(keyring.backends.fail.Keyring()):
        yield


@pytest.fixture(autouse=True)
def _no_heidi_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEIDI_BASE_URL", "HEIDI_API_KEY", "HEIDI_EMAIL", "HEIDI_USER_ID"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_mean_the_local_server() -> None:
    settings = load_settings()
    assert settings == Settings()
    assert settings.uses_local_server
    assert (settings.chunk_min_s, settings.chunk_max_s, settings.retention_hours) == (45, 60, 24)


def test_round_trip_is_atomic_and_private() -> None:
    original = Settings(
        base_url="https://eu.example.test/api/v2/ml-scribe/open-api/",
        region="EU",
        email="dr@example.test",
        user_id="u-1",
        chunk_min_s=50,
        chunk_max_s=55,
        require_consent=False,
    )
    path = save_settings(original)
    assert path == settings_path()
    assert path.stat().st_mode & 0o077 == 0
    assert not list(path.parent.glob(".settings-*"))  # no temp file left behind
    loaded = load_settings()
    assert loaded.base_url == "https://eu.example.test/api/v2/ml-scribe/open-api"
    assert loaded == original
    assert "key" not in path.read_text().lower().replace("keyring", "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chunk_min_s": 30}, "chunk_min_s must be between 45 and 60"),
        ({"chunk_max_s": 61}, "chunk_max_s must be between"),
        ({"chunk_min_s": 58, "chunk_max_s": 50}, "must not be larger"),
        ({"retention_hours": -1}, "retention_hours"),
        ({"reconnect_minutes": -1}, "reconnect_minutes"),
        ({"reconnect_minutes": float("nan")}, "reconnect_minutes"),
        ({"reconnect_minutes": 1e9}, "reconnect_minutes"),
        ({"base_url": "http://heidi.example.test"}, "must use https"),
        ({"base_url": "ftp://x"}, "must start with https"),
        ({"base_url": "https://"}, "must start with https"),
        ({"proxy_url": "proxy.local"}, "proxy address"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "CA bundle"),
        ({"language_code": " "}, "language_code"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    change: dict[str, object], message: str
) -> None:
    settings = Settings(**change)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=message):
        save_settings(settings)
    assert not settings_path().exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "damaged"),
        ("[1, 2]", "not hold a JSON object"),
        ('{"chunk_min_s": "fast"}', "chunk_min_s must be a number"),
        ('{"require_consent": "yes"}', "require_consent must be true or false"),
        ('{"email": 5}', "email must be text"),
        ('{"chunk_max_s": 90}', "chunk_max_s must be between"),
    ],
)
def test_damaged_settings_file_gives_a_clear_error(content: str, message: str) -> None:
    settings_path().write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_unknown_keys_are_ignored() -> None:
    settings_path().write_text(json.dumps({"email": "a@b.test", "future_option": 1}))
    assert load_settings().email == "a@b.test"


def test_env_overrides_for_headless_use(monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(email="saved@example.test"))
    monkeypatch.setenv("HEIDI_BASE_URL", "https://us.example.test/api")
    monkeypatch.setenv("HEIDI_USER_ID", "env-user")
    settings = effective_settings()
    assert settings.base_url == "https://us.example.test/api"
    assert settings.user_id == "env-user"
    assert settings.email == "saved@example.test"
    monkeypatch.setenv("HEIDI_BASE_URL", "http://evil.example.test")
    with pytest.raises(SettingsError, match="https"):
        effective_settings()


def test_api_key_lives_in_the_keyring(memory_keyring: MemoryKeyring) -> None:
    assert get_api_key() is None
    set_api_key("secret-key-1")
    assert memory_keyring.items == {("AmbientRecorder", "heidi-api-key"): "secret-key-1"}
    assert get_api_key() == "secret-key-1"
    save_settings(Settings(email="x@example.test"))
    assert "secret-key-1" not in settings_path().read_text()
    set_api_key(None)
    assert get_api_key() is None
    assert keyring_problem() is None


def test_env_key_wins_over_keyring(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_api_key("stored")
    monkeypatch.setenv("HEIDI_API_KEY", "from-env")
    assert get_api_key() == "from-env"


def test_no_keyring_backend_is_said_clearly(
    no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = keyring_problem()
    assert problem is not None and "HEIDI_API_KEY" in problem
    with pytest.raises(NoKeyringError, match="HEIDI_API_KEY"):
        set_api_key("k")
    assert get_api_key() is None
    monkeypatch.setenv("HEIDI_API_KEY", "env-key")
    assert get_api_key() == "env-key"


class HungSecretService(MemoryKeyring):
    """A store that fails with its own error (a crashed Secret Service over D-Bus), not
    keyring's KeyringError."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.NoReply: no reply")

    def set_password(self, service: str, username: str, password: str) -> None:
        self.get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        self.get_password(service, username)


def test_any_failure_of_the_password_store_is_named_never_no_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A RuntimeError from the backend escaped (Settings did not open; the CLI and the app's
    link said only "RuntimeError"); a failing store is not "no key stored" either."""
    from recorder.uplink import resolve_target

    monkeypatch.delenv("HEIDI_API_KEY", raising=False)
    named = r"password store \(OS keyring\) is not usable: .*no reply \(RuntimeError\)"
    with keyring_backend(HungSecretService()):
        with pytest.raises(KeyringUnusableError, match=named):
            get_api_key()
        problem = keyring_problem()
        assert problem is not None and "no reply (RuntimeError)" in problem
        with pytest.raises(KeyringUnusableError, match=r"refused the API key: .*no reply"):
            set_api_key("k")
        set_proxy_password(None)  # no proxy any more: nothing typed is lost, logged
        with pytest.raises(KeyringUnusableError, match="refused the proxy password"):
            set_proxy_password("p")
        account = Settings(base_url="https://h.test/api", email="a@b.test", user_id="u")
        with pytest.raises(ConfigError, match=named):  # the CLI's and the app's link's words
            resolve_target(account, tmp_path)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/api", "http://localhost:9", "http://[::1]:80", "https://h.test/x/"],
)
def test_base_urls_allowed(url: str) -> None:
    assert validate_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://10.0.0.2/api",
        "https://h.test:99999",
        "https://u:p@h.test",
        "https://h.test/?a=1",
        "127.0.0.1:8000",
        "javascript:alert(1)",
    ],
)
def test_base_urls_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        validate_base_url(url)


def test_ca_bundle_must_be_pem(tmp_path: Path) -> None:
    from recorder.heidi.tls import make_ssl_context

    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError, match="PEM"):
        make_ssl_context(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        make_ssl_context(tmp_path / "missing.pem")
    assert (
        make_ssl_context("/etc/ssl/certs/ca-certificates.crt").verify_mode.name == "CERT_REQUIRED"
    )
