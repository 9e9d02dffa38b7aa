"""The API key and the JWT signing secret: given, or generated once and kept user-only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

API_KEY_FILE = "api_key"
JWT_SECRET_FILE = "jwt_secret"
API_KEY_ENV = "AMBIENT_SERVER_API_KEY"


def _write_private(path: Path, value: str) -> None:
    """Create the file readable by the user only (0600) before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value)
        handle.flush()
        os.fsync(handle.fileno())


def _read_or_create(path: Path, make: int) -> tuple[str, bool]:
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value, False
        path.unlink()
    value = secrets.token_urlsafe(make)
    _write_private(path, value)
    return value, True


def resolve_api_key(data_dir: Path, given: str | None) -> tuple[str, bool]:
    """The key to require: --api-key, else $AMBIENT_SERVER_API_KEY, else the stored one.

    Returns (key, generated_now): a key generated now is printed once by the caller.
    """
    key = given if given else os.environ.get(API_KEY_ENV)
    if key:
        if len(key) < 8 or len(key) > 256 or not key.isprintable():
            raise ValueError("the API key must be 8 to 256 printable characters")
        return key, False
    return _read_or_create(data_dir / API_KEY_FILE, 32)


def jwt_secret(data_dir: Path) -> str:
    """The HMAC secret signing JWTs; kept on disk so tokens survive a restart."""
    return _read_or_create(data_dir / JWT_SECRET_FILE, 48)[0]
