"""Audit lines about settings and the upload target: field names and hosts, never secrets.

The real core on a real spool saves settings (API key into a real keyring backend, a proxy
with a password) and reconnects: the log says which fields changed and where uploads now go,
and holds no key, proxy password or user name.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.core import AmbientCore
from recorder.logs import audit, url_host
from recorder.settings import Settings, save_settings, set_api_key
from tests.fixtures.keyrings import keyring_backend
from tests.ui.file_keyring import FileKeyring

FIRST_KEY = "first-KEY-7c1d9e"
SECOND_KEY = "second-KEY-a4f02b"
PROXY = "http://itadmin:pr0xy-S3cret@proxy.example:3128"


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[FileKeyring]:
    with keyring_backend(FileKeyring(tmp_path / "keyring.json")) as backend:
        yield backend


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "recorder.audit"]


def _wait_for(caplog: pytest.LogCaptureFixture, prefix: str, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [line for line in _audit_lines(caplog) if line.startswith(prefix)]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no {prefix!r} line in:\n" + "\n".join(_audit_lines(caplog)))


def test_settings_and_target_changes_are_audited_without_secrets(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    file_keyring: FileKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO, logger="recorder")
    monkeypatch.delenv("HEIDI_API_KEY", raising=False)
    first = f"http://127.0.0.1:{_closed_port()}/api/v2/ml-scribe/open-api"
    second_port = _closed_port()
    second = f"http://localhost:{second_port}/api/v2/ml-scribe/open-api"
    save_settings(Settings(base_url=first, email="gp@practice.example", user_id="gp-7"))
    set_api_key(FIRST_KEY)
    core = AmbientCore(lambda _event: None, data_dir=tmp_path / "data")
    core.start()
    try:
        first_host = url_host(first)
        assert _wait_for(caplog, "audit: upload.target") == (
            f"audit: upload.target mode=heidi host={first_host} ca_bundle=False"
        )
        changed = Settings(
            base_url=second, email="gp@practice.example", user_id="gp-7", proxy_url=PROXY
        )
        core.apply_settings(changed, api_key=SECOND_KEY)
        assert _wait_for(caplog, "audit: settings.saved") == (
            "audit: settings.saved changed=base_url,proxy_url,api_key,proxy_password"
        )
        assert _wait_for(caplog, "audit: upload.target_changed") == (
            f"audit: upload.target_changed mode=heidi host=localhost:{second_port} "
            f"was_mode=heidi was={first_host}"
        )
        assert (
            f"audit: upload.target mode=heidi host=localhost:{second_port} "
            "proxy=proxy.example:3128 ca_bundle=False"
        ) in _audit_lines(caplog)
        core.remember_choices(input_device="USB mic", language_code="en-AU")
        assert _audit_lines(caplog)[-1] == (
            "audit: settings.saved changed=input_device,language_code"
        )
    finally:
        core.shutdown()
    logged = caplog.text
    for secret in (FIRST_KEY, SECOND_KEY, "pr0xy-S3cret", "itadmin"):
        assert secret not in logged, secret


def test_audit_fields_stay_one_token_each(caplog: pytest.LogCaptureFixture) -> None:
    """A path with spaces stays one quoted field; fields that do not apply are left out."""
    caplog.set_level(logging.INFO, logger="recorder.audit")
    audit("start", data_dir=r"C:\Users\Dr Smith\AppData", proxy=None, count=3, s=2.345)
    assert caplog.records[-1].getMessage() == (
        r'audit: start data_dir="C:\Users\Dr Smith\AppData" count=3 s=2.3'
    )
    assert url_host("https://user:pw@api.example.com/api/v2") == "api.example.com"
    assert url_host("http://10.0.0.5:8080") == "10.0.0.5:8080"
    assert url_host("http://[::1") == "unparsable"
