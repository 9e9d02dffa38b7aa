"""The audio of the chunk in progress, on disk within about a second: a crash loses ~nothing.

A journal file holds the PCM since the last committed chunk:

    b"ARJL" | version (1 byte) | start_frame (8 bytes, big-endian) | record*
    record = length (4 bytes, big-endian) | AES-GCM sealed float32 PCM

Each record is sealed on its own, bound to (recording, start_frame, record number), so a torn
last record (the process died mid-write) is detected and dropped, and records cannot be
reordered or moved between recordings. Records are written with os.write (they survive a killed
process at once); fsync runs at most about once a second (for power loss). After a cut, the
journal is atomically replaced by one holding only the remainder.
"""

from __future__ import annotations

import logging
import os
import struct
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from recorder.crypto import Cipher
from recorder.errors import DecryptionError

log = logging.getLogger(__name__)

MAGIC = b"ARJL"
VERSION = 1
_HEADER = struct.Struct(">4sBQ")
_LENGTH = struct.Struct(">I")
MAX_RECORD_BYTES = 64 * 1024 * 1024  # a length above this is a torn/garbled length field


def _label(recording_id: str, start_frame: int, number: int) -> bytes:
    return f"journal/{recording_id}/{start_frame}/{number}".encode()


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (short writes happen on nearly-full disks)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Journal:
    """Append-only encrypted PCM journal for one recording's chunk in progress."""

    def __init__(
        self, path: Path, cipher: Cipher, recording_id: str, sync_interval_s: float = 1.0
    ) -> None:
        self.path = path
        self._cipher = cipher
        self._recording_id = recording_id
        self._sync_interval_s = sync_interval_s
        self._fd: int | None = None
        self._start_frame = 0
        self._records = 0
        self._last_sync = 0.0

    @property
    def start_frame(self) -> int:
        """Absolute frame index of the first sample the journal holds."""
        return self._start_frame

    def reset(self, start_frame: int, pcm: npt.NDArray[np.float32] | None = None) -> None:
        """Atomically replace the journal by one starting at `start_frame`, holding `pcm`."""
        tmp = self.path.with_name(self.path.name + ".partial")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        try:
            write_all(fd, _HEADER.pack(MAGIC, VERSION, start_frame))
            self._start_frame = start_frame
            self._records = 0
            if pcm is not None and len(pcm):
                write_all(fd, self._record(pcm))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        if self._fd is not None:  # Windows cannot replace a file that is still open
            os.close(self._fd)
            self._fd = None
        try:
            os.replace(tmp, self.path)
        except BaseException:
            os.close(fd)
            raise
        fsync_dir(self.path.parent)
        self._fd = fd
        self._last_sync = time.monotonic()

    def append(self, pcm: npt.NDArray[np.float32]) -> None:
        """Append samples; fsync when the last one is more than `sync_interval_s` old."""
        if self._fd is None:
            raise RuntimeError("journal not started: call reset() first")
        if not len(pcm):
            return
        write_all(self._fd, self._record(pcm))
        now = time.monotonic()
        if now - self._last_sync >= self._sync_interval_s:
            os.fsync(self._fd)
            self._last_sync = now

    def sync(self) -> None:
        """fsync now (before a clean stop)."""
        if self._fd is not None:
            os.fsync(self._fd)
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """Close the file (it stays on disk until `remove()`)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """Close and delete the journal (its audio is now in committed chunks)."""
        self.close()
        self.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".partial").unlink(missing_ok=True)

    def _record(self, pcm: npt.NDArray[np.float32]) -> bytes:
        body = np.ascontiguousarray(pcm, dtype="<f4").tobytes()
        sealed = self._cipher.seal(
            body, _label(self._recording_id, self._start_frame, self._records)
        )
        self._records += 1
        return _LENGTH.pack(len(sealed)) + sealed


class JournalContents(NamedTuple):
    """What a journal held: its audio, and whether part of it could not be read."""

    start_frame: int
    pcm: npt.NDArray[np.float32]
    damaged: bool  # more than a torn last record is unreadable: keep the file (see below)


def read_journal(path: Path, cipher: Cipher, recording_id: str) -> JournalContents | None:
    """The journal's audio. A torn last record (a crash mid-write) is dropped silently; anything
    worse (unknown header, a complete record that does not decrypt, a garbled length) sets
    `damaged`, so the caller keeps the file with `keep_damaged_journal`. None: no journal.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    empty = np.zeros(0, dtype=np.float32)
    if not data:
        return None
    if len(data) < _HEADER.size:
        log.warning("journal %s has a truncated header", path.name)
        return JournalContents(0, empty, damaged=True)
    magic, version, start_frame = _HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        log.warning("journal %s has an unknown header (version %s)", path.name, version)
        return JournalContents(0, empty, damaged=True)
    pieces: list[npt.NDArray[np.float32]] = []
    pos, number, damaged = _HEADER.size, 0, False
    while pos + _LENGTH.size <= len(data):
        (length,) = _LENGTH.unpack_from(data, pos)
        body_start = pos + _LENGTH.size
        if length > MAX_RECORD_BYTES:
            damaged = True  # a garbled length field, not a torn write
            break
        if body_start + length > len(data):
            break  # torn last record
        try:
            plain = cipher.open(
                data[body_start : body_start + length], _label(recording_id, start_frame, number)
            )
        except DecryptionError:
            damaged = True  # a whole record that does not open: damage (or another key)
            break
        pieces.append(np.frombuffer(plain, dtype="<f4").astype(np.float32))
        pos, number = body_start + length, number + 1
    if pos != len(data):
        log.warning(
            "journal %s: %d trailing bytes not readable (%s)",
            path.name,
            len(data) - pos,
            "damaged record" if damaged else "torn last record",
        )
    pcm = np.concatenate(pieces) if pieces else empty
    return JournalContents(int(start_frame), pcm, damaged)


def keep_damaged_journal(path: Path) -> Path:
    """Move a damaged journal aside (never delete it): what could not be read may still be
    recoverable by hand (e.g. with the right key). Returns the new path.

    The name holds the time to the second; a second one kept within that second gets a
    number after it instead of replacing the first.
    """
    stamp = time.strftime("%Y%m%dT%H%M%S")
    kept = path.with_name(f"{path.stem}-damaged-{stamp}{path.suffix}")
    number = 1
    while kept.exists():
        number += 1
        kept = path.with_name(f"{path.stem}-damaged-{stamp}-{number}{path.suffix}")
    os.replace(path, kept)
    fsync_dir(path.parent)
    log.error("journal %s could not be read completely; kept as %s", path.name, kept.name)
    return kept


class WriterLock:
    """An exclusive OS lock held while a process writes a recording, so recovery leaves it alone.

    The OS drops the lock when the process dies (even by SIGKILL), which is exactly when the
    recording becomes recoverable.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process (or handle) holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Release the lock (closing the handle releases it on every OS)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
