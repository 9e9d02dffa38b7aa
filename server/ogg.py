"""Ogg container integrity: every page whole, its CRC right, the stream properly ended.

FFmpeg (and so faster-whisper's decoder) silently decodes what it can of a cut or
damaged file; a chunk missing its tail would then be READY with part of its words
gone. Walking the pages catches that so the chunk ends FAILED with a reason.
"""

from __future__ import annotations

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
    view = memoryview(data)
    pos = 0
    flags = 0
    pages = 0
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS":
            raise OggDamaged(f"no Ogg page at byte {pos}")
        if pos + 27 > len(data):
            raise OggDamaged("cut short inside a page header")
        flags = data[pos + 5]
        nsegs = data[pos + 26]
        header_end = pos + 27 + nsegs
        if header_end > len(data):
            raise OggDamaged("cut short inside a page header")
        page_end = header_end + sum(data[pos + 27 : header_end])
        if page_end > len(data):
            raise OggDamaged("cut short inside a page (truncated file)")
        stored_crc = int.from_bytes(data[pos + 22 : pos + 26], "little")
        page = bytearray(view[pos:page_end])
        page[22:26] = b"\0\0\0\0"
        if ogg_crc(page) != stored_crc:
            raise OggDamaged(f"page at byte {pos} fails its checksum (corrupt data)")
        pos = page_end
        pages += 1
    if pages == 0:
        raise OggDamaged("no Ogg pages")
    if not flags & _EOS_FLAG:
        raise OggDamaged("the stream never ends (truncated file)")
