"""The Ogg page walker that tells a whole chunk from a cut or corrupted one."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.ogg import OggDamaged, check_ogg, ogg_crc
from tests.server.support import read_consult, write_ogg


@pytest.fixture(scope="module")
def ogg_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder: Path = tmp_path_factory.mktemp("ogg")
    clip = read_consult()[: 16000 * 5]
    return {
        "vorbis": write_ogg(folder / "v.ogg", clip).read_bytes(),
        "opus": write_ogg(folder / "o.ogg", clip, subtype="OPUS").read_bytes(),
    }


def test_ogg_crc_matches_a_known_page() -> None:
    # CRC of the empty input is 0; of b"OggS" computed independently with the spec polynomial.
    assert ogg_crc(b"") == 0
    assert ogg_crc(b"\x00") == 0
    assert ogg_crc(b"\x01") == 0x04C11DB7


@pytest.mark.parametrize("kind", ["vorbis", "opus"])
def test_whole_files_pass(ogg_files: dict[str, bytes], kind: str) -> None:
    check_ogg(ogg_files[kind])


@pytest.mark.parametrize("kind", ["vorbis", "opus"])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_any_cut_is_caught(ogg_files: dict[str, bytes], kind: str, fraction: float) -> None:
    data = ogg_files[kind]
    with pytest.raises(OggDamaged):
        check_ogg(data[: int(len(data) * fraction)])


def test_a_flipped_byte_is_caught(ogg_files: dict[str, bytes]) -> None:
    data = bytearray(ogg_files["vorbis"])
    data[len(data) // 2] ^= 0x01
    with pytest.raises(OggDamaged, match="checksum"):
        check_ogg(bytes(data))


def test_trailing_garbage_and_missing_end_are_caught(ogg_files: dict[str, bytes]) -> None:
    with pytest.raises(OggDamaged, match="no Ogg page"):
        check_ogg(ogg_files["vorbis"] + b"junk")
    with pytest.raises(OggDamaged):
        check_ogg(b"")
