"""Typed client of the Heidi Health API: auth, sessions, segment uploads, transcripts."""

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
