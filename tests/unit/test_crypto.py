"""AES-GCM spool files and the key store (real files, the machine's real keyring state)."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from keyring.backend import KeyringBackend
from keyring.backends import fail

from recorder.crypto import KEY_FILE_NAME, Cipher, KeyStore, chunk_label
from recorder.encoder import encode_ogg
from recorder.errors import DecryptionError, SpoolError
from tests.fixtures.keyrings import keyring_backend

KEY = bytes(range(32))


def test_round_trip() -> None:
    cipher = Cipher(KEY)
    sealed = cipher.seal(b"audio bytes", chunk_label("rec", 3))
    assert b"audio bytes" not in sealed
    assert cipher.open(sealed, chunk_label("rec", 3)) == b"audio bytes"


def test_wrong_key_is_refused() -> None:
    sealed = Cipher(KEY).seal(b"x" * 100, chunk_label("rec", 0))
    with pytest.raises(DecryptionError, match="wrong key"):
        Cipher(bytes(32)).open(sealed, chunk_label("rec", 0))


@pytest.mark.parametrize("position", [0, 4, 5, 16, 17, 60, -1])
def test_any_tampered_byte_is_refused(position: int) -> None:
    cipher = Cipher(KEY)
    sealed = bytearray(cipher.seal(b"y" * 100, chunk_label("rec", 0)))
    sealed[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.open(bytes(sealed), chunk_label("rec", 0))


def test_truncated_file_is_refused() -> None:
    cipher = Cipher(KEY)
    sealed = cipher.seal(b"z" * 100, chunk_label("rec", 0))
    for cut in (0, 10, 33, len(sealed) - 1):
        with pytest.raises(DecryptionError):
            cipher.open(sealed[:cut], chunk_label("rec", 0))


def test_swapped_files_are_refused() -> None:
    cipher = Cipher(KEY)
    sealed = cipher.seal(b"chunk one", chunk_label("rec-a", 1))
    with pytest.raises(DecryptionError):
        cipher.open(sealed, chunk_label("rec-a", 2))
    with pytest.raises(DecryptionError):
        cipher.open(sealed, chunk_label("rec-b", 1))


def test_sealed_audio_does_not_decode_as_audio() -> None:
    pcm = (np.sin(np.arange(16_000) / 10) * 0.3).astype(np.float32)
    ogg = encode_ogg(pcm, 16_000)
    assert sf.info(io.BytesIO(ogg)).frames == 16_000  # the plain file is audio
    sealed = Cipher(KEY).seal(ogg, chunk_label("rec", 0))
    with pytest.raises(sf.LibsndfileError):
        sf.read(io.BytesIO(sealed))


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Cipher(b"short")


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """keyring's own 'no backend' Keyring, as on a headless machine (this one has none anyway)."""
    with keyring_backend(fail.Keyring()):
        yield


@pytest.mark.usefixtures("no_keyring")
def test_key_file_fallback_is_user_only_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = KeyStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="recorder.crypto"):
        key = store.load_or_create()
    assert len(key) == 32
    path = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.warning is not None and str(path) in store.warning
    assert store.backend == "file"
    assert sum("No OS keyring" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    again = KeyStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="recorder.crypto"):
        assert again.load_or_create() == key  # same key next time
    assert again.warning is not None
    assert not any("No OS keyring" in r.getMessage() for r in caplog.records)  # logged once


@pytest.mark.usefixtures("no_keyring")
def test_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_bytes(b"12345")
    with pytest.raises(SpoolError, match="damaged"):
        KeyStore(tmp_path).load_or_create()


class _MemoryKeyring(KeyringBackend):
    """A real (in-process) keyring backend, standing in for the OS keyring this host lacks."""

    priority = -1  # type: ignore[assignment]  # never chosen by keyring's own discovery

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_keyring_is_preferred_when_available(tmp_path: Path) -> None:
    with keyring_backend(_MemoryKeyring()) as backend:
        store = KeyStore(tmp_path)
        key = store.load_or_create()
        assert backend.store[("AmbientRecorder", store.keyring_name())] == key.hex()
        assert store.keyring_name().startswith("spool-key:")  # not the real user's entry
        assert store.warning is None
        assert not (tmp_path / KEY_FILE_NAME).exists()
        assert KeyStore(tmp_path).load_or_create() == key


def test_existing_key_file_wins_over_a_newly_installed_keyring(tmp_path: Path) -> None:
    file_key = os.urandom(32)
    (tmp_path / KEY_FILE_NAME).write_bytes(file_key)
    with keyring_backend(_MemoryKeyring()):
        assert KeyStore(tmp_path).load_or_create() == file_key


class _BrokenKeyring(_MemoryKeyring):
    """A keyring that exists but fails, like a locked one or one whose D-Bus is down."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("locked")


def test_failing_keyring_never_replaces_the_key_of_existing_audio(tmp_path: Path) -> None:
    with keyring_backend(_BrokenKeyring()):
        (tmp_path / "fresh").mkdir()
        assert len(KeyStore(tmp_path / "fresh").load_or_create()) == 32  # first run: key file
        existing = tmp_path / "existing"
        existing.mkdir()
        (existing / "spool.db").write_bytes(b"")  # a spool whose key is in the keyring
        with pytest.raises(SpoolError, match="keyring"):
            KeyStore(existing).load_or_create()
        assert not (existing / KEY_FILE_NAME).exists()
