"""write_atomically: the target holds the old or the new bytes, never a part; no temp is left."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from recorder.atomic_file import write_atomically


def test_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    write_atomically(target, b"new contents\n")
    assert target.read_bytes() == b"new contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_sets_the_mode_before_the_file_appears(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    write_atomically(target, b"{}", mode=0o600)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "missing" / "out.txt", b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(TypeError):
        write_atomically(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
