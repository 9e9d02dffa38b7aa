"""Disk full and read-only data folders: a clear SpoolError, and nothing already recorded is harmed.

Uses a real 2 MB tmpfs (needs root: mount); skipped with the reason when not root. A tmpfs
cannot be remounted read-only while files are open for writing (EBUSY), so "read-only" is
tested at the start of a recording; mid-recording write failures are covered by "disk full".
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recorder.errors import SpoolError
from recorder.spool import Spool
from recorder.states import RecordingState
from tests.fixtures.tiny_disk import fill_disk, tiny_tmpfs

KEY = bytes(range(32))
RATE = 16_000


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with tiny_tmpfs(tmp_path / "mnt") as mount:
        yield mount


def _speech_like(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * RATE)) * 0.2).astype(np.float32)


def test_disk_full_mid_recording(tiny_disk: Path) -> None:
    spool = Spool.open(tiny_disk / "data", key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    filler = fill_disk(tiny_disk, leave_bytes=400_000)
    audio = _speech_like(120, seed=1)
    accepted = 0
    with pytest.raises(SpoolError) as caught:
        for pos in range(0, len(audio), 1_600):
            writer.write(audio[pos : pos + 1_600])
            accepted = pos + 1_600
    message = str(caught.value)
    committed = spool.chunks(rid)
    assert "is full or not writable" in message
    assert "recording stopped" in message
    kept = re.search(r"Everything recorded so far \((\d+) s\) is kept", message)
    assert kept, message  # the journal's audio too: not "the N chunks already recorded"
    assert abs(int(kept.group(1)) - accepted / RATE) <= 1
    assert len(committed) >= 2
    for chunk in committed:  # still readable on the full disk
        assert len(spool.read_chunk_pcm(rid, chunk.index)) == chunk.frames
    with pytest.raises(SpoolError):
        writer.write(audio[:1_600])  # stays failed: the session must stop
    writer.close()
    assert spool.recording(rid).state == RecordingState.RECORDING  # left for recovery

    filler.unlink()  # the user frees space; next start recovers the journal
    assert [r.recording_id for r in spool.recover_interrupted()] == [rid]
    chunks = spool.chunks(rid)
    recovered = sum(c.frames for c in chunks)
    assert recovered >= accepted
    pcm = np.concatenate([spool.read_chunk_pcm(rid, c.index) for c in chunks])
    assert len(pcm) == recovered
    assert np.corrcoef(pcm[:accepted], audio[:accepted])[0, 1] > 0.8
    spool.close()


def test_read_only_data_folder(tiny_disk: Path) -> None:
    data = tiny_disk / "data"
    spool = Spool.open(data, key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    audio = _speech_like(3.2, seed=2)
    writer.write(audio)
    writer.close()
    spool.close()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    try:
        ro = Spool.open(data, key=KEY)
        assert ro.recording(rid).state == RecordingState.RECORDED  # still readable and exportable
        assert len(ro.read_chunk_pcm(rid, 0)) == ro.chunk(rid, 0).frames
        with pytest.raises(SpoolError, match=f"{data} is full or not writable"):
            ro.create_recording()
        ro.close()
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)
    again = Spool.open(data, key=KEY)
    chunks = again.chunks(rid)
    assert sum(c.frames for c in chunks) == len(audio)
    for chunk in chunks:
        assert len(again.read_chunk_pcm(rid, chunk.index)) == chunk.frames
    again.close()


def test_recording_folder_removed_mid_recording_is_not_called_kept(tmp_path: Path) -> None:
    """A folder removed while recording (a person, a clean-up tool) took the journal with it:
    the error must not promise that everything recorded so far is kept."""
    spool = Spool.open(tmp_path / "data", key=KEY)
    rid = spool.create_recording(chunk_min_s=1.0, chunk_max_s=1.5).recording_id
    writer = spool.writer(rid)
    audio = _speech_like(4, seed=3)
    writer.write(audio[:8_000])
    shutil.rmtree(spool.root / rid)
    with pytest.raises(SpoolError) as caught:
        for pos in range(8_000, len(audio), 1_600):
            writer.write(audio[pos : pos + 1_600])
    message = str(caught.value)
    assert "was removed or moved while recording" in message, message
    assert "is kept" not in message and "are safe" not in message
    writer.close()
    spool.close()
