"""The few kinds of failure a Heidi call can end in, so callers decide retry-or-not by type.

Every error carries the HTTP status (when there was one), the server's own
`{"detail": {"msg", "type"}}` message, and an `exit_code` for the CLI. None
of them ever carries request or answer bodies beyond that short message.
"""

from __future__ import annotations

from recorder import exit_codes
from recorder.errors import RecorderError


class HeidiError(RecorderError):
    """Base of every failure talking to the Heidi API (or the local server)."""

    exit_code = exit_codes.FAILURE
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_msg: str | None = None,
        server_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_msg = server_msg
        self.server_type = server_type
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)


class ConfigError(HeidiError):
    """The connection settings are unusable (bad base URL, missing key, unreadable CA file)."""

    exit_code = exit_codes.USAGE


class AuthError(HeidiError):
    """The API key or the JWT was refused, even after one fresh token."""

    exit_code = exit_codes.AUTH_FAILED


class RejectedError(HeidiError):
    """A 4xx the server will answer the same way again: the request itself is refused.

    Its exit code is the generic FAILURE: the upload commands report CHUNKS_REJECTED
    themselves, from the chunks' states, when it was chunks that were refused.
    """

    exit_code = exit_codes.FAILURE


class RateLimitedError(HeidiError):
    """429: too many requests; `retry_after` (seconds) says when to come back, if given."""

    exit_code = exit_codes.SERVER_UNREACHABLE
    retryable = True


class ServerDownError(HeidiError):
    """5xx, 408, 425, or an answer that is not what the contract says (HTML, garbage, too big)."""

    exit_code = exit_codes.SERVER_UNREACHABLE
    retryable = True


class NetworkError(HeidiError):
    """The server could not be reached or the connection broke (refused, timeout, dropped, TLS)."""

    exit_code = exit_codes.SERVER_UNREACHABLE
    retryable = True


class TLSError(NetworkError):
    """The server's certificate is not trusted: set a CA bundle for an inspecting proxy."""
