"""API-key checks and JWTs: who the caller is, or a 401."""

from __future__ import annotations

import hmac
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from server.errors import ApiError

ALGORITHM = "HS256"
ISSUER = "ambient-recorder-local-server"
_BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class User:
    """A caller as the tenant names it: both parts together are the identity."""

    email: str
    third_party_internal_id: str

    @property
    def key(self) -> str:
        """The owner key stored with each session (unit separator cannot occur in either part)."""
        return f"{self.email}\x1f{self.third_party_internal_id}"


@dataclass(frozen=True)
class Token:
    token: str
    expires_at: datetime


class Authority:
    """Checks the tenant API key, issues and verifies JWTs signed with a server secret."""

    def __init__(self, api_key: str, secret: str, ttl_s: int) -> None:
        self._api_key = api_key.encode()
        self._secret = secret
        self._ttl_s = ttl_s

    def check_api_key(self, given: str | None) -> None:
        if not given:
            raise ApiError(401, "MissingApiKeyError", "the Heidi-Api-Key header is required")
        if not hmac.compare_digest(given.encode(), self._api_key):
            raise ApiError(401, "InvalidApiKeyError", "the API key is not valid")

    def issue(self, user: User) -> Token:
        issued_at = time.time()
        now = int(issued_at)
        # Rounded up, so a token lives at least its whole TTL, never a fraction of a second less.
        exp = math.ceil(issued_at + self._ttl_s)
        claims = {
            "iss": ISSUER,
            "sub": user.email,
            "tid": user.third_party_internal_id,
            "iat": now,
            "exp": exp,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return Token(token, datetime.fromtimestamp(exp, UTC))

    def verify(self, authorization: str | None) -> User:
        if not authorization:
            raise ApiError(
                401, "MissingTokenError", "an Authorization: Bearer token is required", _BEARER
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "InvalidTokenError",
                "the Authorization header must be 'Bearer <token>'",
                _BEARER,
            )
        try:
            claims = jwt.decode(
                token.strip(),
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "tid", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "TokenExpiredError", "the token has expired", _BEARER) from None
        except jwt.PyJWTError:
            raise ApiError(401, "InvalidTokenError", "the token is not valid", _BEARER) from None
        email, tid = claims.get("sub"), claims.get("tid")
        if not isinstance(email, str) or not isinstance(tid, str):
            raise ApiError(401, "InvalidTokenError", "the token is not valid", _BEARER)
        return User(email, tid)
