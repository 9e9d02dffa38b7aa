"""Ogg container integrity: every page whole, its CRC right, the stream properly ended.

FFmpeg (and so faster-whisper's decoder) silently decodes what it can of a cut or
damaged file; a chunk missing its tail would then be READY with part of its words
gone. Walking the pages catches that so the chunk ends FAILED with a reason.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

_EOS_FLAG = 0x04


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def ogg_crc(data: bytes | bytearray | memoryview) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial value 0)."""
    crc = 0
    table = _TABLE
    for byte in bytes(data):
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


class OggDamaged(ValueError):
    """The Ogg data is cut short, corrupt, or never ended."""


def check_ogg(data: bytes) -> None:
    """Raise OggDamaged unless `data` is a sequence of whole, valid pages ending in EOS."""
    check_ogg_stream(io.BytesIO(data))


def check_ogg_file(path: Path) -> None:
    """`check_ogg` on a file, read one page at a time (a long upload is never held whole)."""
    with path.open("rb") as stream:
        check_ogg_stream(stream)


def check_ogg_stream(stream: IO[bytes]) -> None:
    """Walk the pages of `stream` to its end; raise OggDamaged at the first bad one."""
    pos = 0
    flags = 0
    pages = 0
    while header := stream.read(27):
        if header[:4] != b"OggS":
            raise OggDamaged(f"no Ogg page at byte {pos}")
        if len(header) < 27:
            raise OggDamaged("cut short inside a page header")
        flags = header[5]
        lacing = stream.read(header[26])
        if len(lacing) < header[26]:
            raise OggDamaged("cut short inside a page header")
        body_size = sum(lacing)
        body = stream.read(body_size)
        if len(body) < body_size:
            raise OggDamaged("cut short inside a page (truncated file)")
        stored_crc = int.from_bytes(header[22:26], "little")
        if ogg_crc(header[:22] + b"\0\0\0\0" + header[26:] + lacing + body) != stored_crc:
            raise OggDamaged(f"page at byte {pos} fails its checksum (corrupt data)")
        pos += 27 + len(lacing) + body_size
        pages += 1
    if pages == 0:
        raise OggDamaged("no Ogg pages")
    if not flags & _EOS_FLAG:
        raise OggDamaged("the stream never ends (truncated file)")
