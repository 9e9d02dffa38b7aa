"""Base URL checks: https to anything, plain http only to this machine (the local server)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from recorder.heidi.errors import ConfigError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1 — traffic that never leaves the machine."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str) -> str:
    """The base URL without a trailing slash, or ConfigError saying what is wrong with it."""
    text = (url or "").strip()
    if not text:
        raise ConfigError("No server address is set.")
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"The server address is not a valid URL: {text!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"The server address must start with https:// and name a host: {text!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            "The server address must use https:// (plain http is only allowed to this "
            f"computer, e.g. the local server): {text!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("The server address must not contain a query, fragment or credentials.")
    return text.rstrip("/")
