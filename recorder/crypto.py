"""Encryption at rest: AES-256-GCM, key in the OS keyring (or a user-only key file).

File format (version 1), all integers big-endian:

    b"ARSP" | version (1 byte) | nonce (12 bytes) | ciphertext + 16-byte GCM tag

The associated data binds a file to its place ("<recording_id>/<index>"), so a chunk file
copied over another chunk, or into another recording, fails to decrypt instead of playing the
wrong patient's audio. Journal records use the same primitive with their own labels.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from recorder.errors import DecryptionError, SpoolError

log = logging.getLogger(__name__)

APP_NAME = "AmbientRecorder"
KEYRING_SERVICE = "AmbientRecorder"
KEYRING_NAME = "spool-key"
KEY_FILE_NAME = "spool.key"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MAGIC = b"ARSP"
VERSION = 1
HEADER_BYTES = len(MAGIC) + 1 + NONCE_BYTES

KEY_FILE_WARNING = (
    "No OS keyring is available: the spool encryption key is stored in a file readable only "
    "by this user ({path}). Anyone who can log in as this user can read the recorded audio."
)


_warned_key_files: set[Path] = set()


class _KeyringFailed(Exception):
    """The OS keyring exists but did not answer."""


def chunk_label(recording_id: str, index: int) -> bytes:
    """Associated data that ties a chunk file to its recording and index."""
    return f"chunk/{recording_id}/{index}".encode()


class Cipher:
    """AES-GCM with one key: seals and opens spool files and journal records."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"spool key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, label: bytes) -> bytes:
        """Encrypt `plaintext` as a versioned file body bound to `label`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = MAGIC + bytes([VERSION]) + nonce
        return header + self._aead.encrypt(nonce, plaintext, header[:5] + label)

    def open(self, sealed: bytes, label: bytes) -> bytes:
        """Decrypt a sealed body; DecryptionError when the key, the label or any byte is wrong."""
        if len(sealed) < HEADER_BYTES + TAG_BYTES or sealed[:4] != MAGIC:
            raise DecryptionError("not an Ambient Recorder spool file (bad header)")
        if sealed[4] != VERSION:
            raise DecryptionError(f"unsupported spool file version {sealed[4]}")
        nonce = sealed[5:HEADER_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[HEADER_BYTES:], sealed[:5] + label)
        except InvalidTag as error:
            raise DecryptionError(
                "cannot decrypt spool file: wrong key, or the file was modified or moved"
            ) from error


class KeyStore:
    """Finds or creates the spool key: OS keyring first, else a 0600 key file in the data dir."""

    def __init__(self, data_dir: Path, *, may_create: bool = True) -> None:
        self._data_dir = data_dir
        # False when the folder already holds encrypted files: a new key could not open them
        self._may_create = may_create
        self.warning: str | None = None  # set when the key lives in a file (CLI/UI show it)
        self.backend: str = ""

    def load_or_create(self) -> bytes:
        """The spool key; created on first use.

        A keyring that exists but fails (locked, D-Bus down) must not lead to a fresh key that
        cannot open the audio already spooled: then this raises SpoolError instead.
        """
        try:
            key = self._from_keyring()
        except _KeyringFailed as failure:
            if (self._data_dir / KEY_FILE_NAME).exists() or not (
                self._data_dir / "spool.db"
            ).exists():
                log.warning("OS keyring unusable (%s); using the key file", failure)
                return self._from_file()
            raise SpoolError(
                f"The OS keyring, which holds the spool key, is not answering ({failure}). "
                "Unlock or start it and try again; the recorded audio needs that key."
            ) from failure
        if key is not None:
            return key
        return self._from_file()

    def keyring_name(self) -> str:
        """The keyring entry: "spool-key" for the default data dir, one per other data dir."""
        import platformdirs

        default = Path(platformdirs.user_data_dir(APP_NAME, False)).expanduser()
        try:
            if self._data_dir.resolve() == default.resolve():
                return KEYRING_NAME
        except OSError:
            pass
        digest = hashlib.sha256(str(self._data_dir.resolve()).encode()).hexdigest()[:16]
        return f"{KEYRING_NAME}:{digest}"

    def _from_keyring(self) -> bytes | None:
        import keyring
        from keyring.backends import fail

        try:
            backend = keyring.get_keyring()
            if isinstance(backend, fail.Keyring):
                return None
            name = self.keyring_name()
            stored = keyring.get_password(KEYRING_SERVICE, name)
            if stored is None:
                # An existing key file (keyring installed later) stays the source of truth.
                if (self._data_dir / KEY_FILE_NAME).exists():
                    return None
                if not self._may_create:
                    raise self._missing(f"the OS keyring entry {KEYRING_SERVICE}/{name}")
                key = secrets.token_bytes(KEY_BYTES)
                keyring.set_password(KEYRING_SERVICE, name, key.hex())
                stored = key.hex()
            key = bytes.fromhex(stored)
            if len(key) != KEY_BYTES:
                raise ValueError("stored key has the wrong length")
        except SpoolError:
            raise
        except Exception as error:  # any backend failure (locked, no D-Bus, bad entry)
            raise _KeyringFailed(type(error).__name__) from error
        self.backend = type(backend).__name__
        return key

    def _from_file(self) -> bytes:
        path = self._data_dir / KEY_FILE_NAME
        self.backend = "file"
        self.warning = KEY_FILE_WARNING.format(path=path)
        if path not in _warned_key_files:  # once per process, not on every open
            _warned_key_files.add(path)
            log.warning(self.warning)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if not self._may_create:
                raise self._missing(f"the key file {path}") from None
            return self._create_file(path)
        except OSError as error:
            raise SpoolError(f"Cannot read the spool key file {path}: {error.strerror}") from error
        if len(data) != KEY_BYTES:
            raise SpoolError(
                f"The spool key file {path} is damaged ({len(data)} bytes, expected {KEY_BYTES}); "
                "the spooled audio cannot be decrypted without the original key."
            )
        return data

    def _missing(self, where: str) -> SpoolError:
        return SpoolError(
            f"The spool encryption key is missing ({where}), but {self._data_dir} holds "
            "encrypted recordings: restore the key (spool.key from a backup, or the keyring "
            "entry). Nothing was changed or deleted; a new key could not open those recordings."
        )

    @staticmethod
    def _create_file(path: Path) -> bytes:
        key = secrets.token_bytes(KEY_BYTES)
        tmp = path.with_name(path.name + ".partial")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, key)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, 0o600)
            # link() fails if another process created the key meanwhile: then use theirs.
            try:
                os.link(tmp, path)
            except FileExistsError:
                os.unlink(tmp)
                return path.read_bytes()
            except OSError:  # no hard links here (FAT, some network shares)
                os.replace(tmp, path)
            else:
                os.unlink(tmp)
        except OSError as error:
            raise SpoolError(
                f"Cannot create the spool key file {path}: {error.strerror}"
            ) from error
        return key
