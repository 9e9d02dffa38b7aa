"""Refuse a spool key that does not match the audio already in the data folder.

A key file deleted or replaced, a keyring entry lost, a data folder moved to a path whose
keyring entry does not exist: each used to give a fresh key silently. Then nothing already
spooled could be decrypted, and crash recovery, unable to read the journal, dropped it. A small
sealed check file beside the key proves the key is the one the spool was written with; it is
checked before the spool is touched, and the error names what to restore.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from recorder.atomic_file import write_atomically
from recorder.crypto import Cipher
from recorder.errors import DecryptionError, SpoolError

log = logging.getLogger(__name__)

CHECK_NAME = "spool.keycheck"
CHECK_LABEL = b"key-check"
CHECK_TEXT = b"Ambient Recorder spool key check v1"
LEGACY_SAMPLES = 3  # chunk files tried on a spool written before the check file existed

MISMATCH = (
    "The spool encryption key does not match the recordings in {data_dir} (the key file or "
    "keyring entry was replaced, or the folder was moved): restore the original key "
    "(spool.key from a backup, or the OS keyring entry). Nothing was changed or deleted."
)


def key_mismatch(data_dir: Path) -> SpoolError:
    return SpoolError(MISMATCH.format(data_dir=data_dir))


def ensure_key_matches(
    data_dir: Path, cipher: Cipher, chunk_samples: Iterable[tuple[Path, bytes]]
) -> None:
    """Return if `cipher` opens this spool's data; SpoolError (nothing touched) if it does not.

    `chunk_samples` are (sealed chunk file, its label) pairs, used only when the check file
    does not exist yet (a spool written before it); the check file is then written.
    """
    check = data_dir / CHECK_NAME
    try:
        sealed: bytes | None = check.read_bytes()
    except FileNotFoundError:
        sealed = None
    except OSError as error:
        raise SpoolError(
            f"Cannot read the spool key check file {check}: {error.strerror}"
        ) from error
    if sealed is not None:
        try:
            if cipher.open(sealed, CHECK_LABEL) == CHECK_TEXT:
                return
        except DecryptionError:
            pass
        raise key_mismatch(data_dir)
    _check_legacy_chunks(data_dir, cipher, chunk_samples)
    try:
        write_atomically(check, cipher.seal(CHECK_TEXT, CHECK_LABEL), mode=0o600)
    except OSError as error:  # a read-only data folder: checked again next time
        log.info("spool key check file not written (%s)", error.strerror)


def _check_legacy_chunks(
    data_dir: Path, cipher: Cipher, chunk_samples: Iterable[tuple[Path, bytes]]
) -> None:
    failed = 0
    for path, label in chunk_samples:
        with contextlib.suppress(OSError):
            sealed = path.read_bytes()
            try:
                cipher.open(sealed, label)
                return  # one chunk opens: the key is right
            except DecryptionError:
                failed += 1
        if failed >= LEGACY_SAMPLES:
            break
    if failed:
        raise key_mismatch(data_dir)


def holds_encrypted_data(data_dir: Path, spool_dir: str, patterns: Iterable[str]) -> bool:
    """True if a new key would make existing files undecryptable (check file, chunks, journals)."""
    if (data_dir / CHECK_NAME).exists():
        return True
    root = data_dir / spool_dir
    if not root.is_dir():
        return False
    return any(next(root.glob(pattern), None) is not None for pattern in patterns)
