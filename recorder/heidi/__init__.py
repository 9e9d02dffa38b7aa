"""Typed client of the Heidi Health API: auth, sessions, segment uploads, transcripts.

The names below are loaded on first use (PEP 562): importing `recorder.heidi.errors`
(which settings and the core need at start) must not pull in httpx, tenacity and the
HTTP client. Code inside `recorder` imports the submodule it needs directly
(`from recorder.heidi.client import HeidiClient`); `from recorder.heidi import X` still works.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recorder.heidi.client import HeidiClient, Timeouts
    from recorder.heidi.errors import (
        AuthError,
        ConfigError,
        HeidiError,
        NetworkError,
        RateLimitedError,
        RejectedError,
        ServerDownError,
        TLSError,
    )
    from recorder.heidi.models import LiveChunk, LiveTranscript, SessionInfo, Token, Transcript

_HOME = {
    "HeidiClient": "client",
    "Timeouts": "client",
    "AuthError": "errors",
    "ConfigError": "errors",
    "HeidiError": "errors",
    "NetworkError": "errors",
    "RateLimitedError": "errors",
    "RejectedError": "errors",
    "ServerDownError": "errors",
    "TLSError": "errors",
    "LiveChunk": "models",
    "LiveTranscript": "models",
    "SessionInfo": "models",
    "Token": "models",
    "Transcript": "models",
}

__all__ = [
    "AuthError",
    "ConfigError",
    "HeidiClient",
    "HeidiError",
    "LiveChunk",
    "LiveTranscript",
    "NetworkError",
    "RateLimitedError",
    "RejectedError",
    "ServerDownError",
    "SessionInfo",
    "TLSError",
    "Timeouts",
    "Token",
    "Transcript",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its submodule the first time it is asked for."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
