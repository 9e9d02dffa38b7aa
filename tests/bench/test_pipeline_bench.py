"""Benchmark: 30 min of audio through chunk -> encode -> encrypt -> spool, next to `oggenc`.

Prints CPU seconds per audio hour (ours and oggenc's, measured in the same run, as a ratio; goal
<= 1.5x), bytes per audio hour, and RSS at 5/10/20/30 min of audio fed (should stay flat).
Run: .venv/bin/pytest -m bench -s tests/bench/test_pipeline_bench.py
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from recorder.spool import Spool

ROOT = Path(__file__).resolve().parents[2]
RATE = 16_000
MINUTES = 30
BLOCK = 1_600  # 100 ms: what the writer thread drains per tick
MILESTONES_MIN = (5, 10, 20, 30)

pytestmark = pytest.mark.bench


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


@pytest.fixture(scope="module")
def long_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 min WAV: the sample consult tiled, plus room noise (written in blocks)."""
    speech, rate = sf.read(ROOT / "samples" / "consult.ogg", dtype="float32")
    assert rate == RATE
    path = tmp_path_factory.mktemp("bench") / "long.wav"
    rng = np.random.default_rng(0)
    total = MINUTES * 60 * RATE
    with sf.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as out:
        for start in range(0, total, len(speech)):
            n = min(len(speech), total - start)
            noise = rng.standard_normal(n).astype(np.float32) * 0.003
            out.write(np.clip(speech[:n] + noise, -1, 1))
    return path


def _wav_blocks(path: Path) -> Iterator[npt.NDArray[np.float32]]:
    for block in sf.blocks(str(path), blocksize=BLOCK, dtype="float32"):
        yield np.asarray(block, dtype=np.float32)


def _capture_blocks(path: Path) -> Iterator[npt.NDArray[np.float32]]:
    from recorder.audio import Capture, FileSpec

    capture = Capture(FileSpec(path, speed=0), target_rate=RATE)
    capture.start()
    try:
        while True:
            pcm = capture.read(timeout=0.1)
            if len(pcm):
                yield pcm
            elif capture.finished:
                return
    finally:
        capture.stop()


def _run_pipeline(
    data_dir: Path, blocks: Callable[[], Iterator[npt.NDArray[np.float32]]]
) -> tuple[float, int, int, dict[int, float]]:
    """(CPU s, frames, bytes, RSS MB at each milestone) for one pass through the spool."""
    spool = Spool.open(data_dir, key=bytes(range(32)))
    rid = spool.create_recording().recording_id
    writer = spool.writer(rid, sync_interval_s=1.0)
    rss: dict[int, float] = {}
    marks = [m * 60 * RATE for m in MILESTONES_MIN]
    frames = 0
    cpu0 = time.process_time()
    for pcm in blocks():
        writer.write(pcm)
        frames += len(pcm)
        while marks and frames >= marks[0]:
            rss[MILESTONES_MIN[len(MILESTONES_MIN) - len(marks)]] = _rss_mb()
            marks.pop(0)
    writer.close()
    cpu = time.process_time() - cpu0
    chunks = spool.chunks(rid)
    assert sum(c.frames for c in chunks) == frames
    assert all(45 * RATE <= c.frames <= 60 * RATE for c in chunks[:-1])
    size = sum(c.size_bytes for c in chunks)
    spool.close()
    return cpu, frames, size, rss


def test_pipeline_cpu_and_memory_vs_oggenc(long_input: Path, tmp_path: Path) -> None:
    oggenc = shutil.which("oggenc")
    if oggenc is None:
        pytest.skip("oggenc (vorbis-tools) is not installed")
    hours = MINUTES / 60

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [oggenc, "-Q", "-q", "2", "-o", str(tmp_path / "ref.ogg"), str(long_input)], check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ref_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ref_bytes = (tmp_path / "ref.ogg").stat().st_size

    cpu, frames, size, rss = _run_pipeline(tmp_path / "spool", lambda: _wav_blocks(long_input))
    assert frames == MINUTES * 60 * RATE

    print(f"\n=== pipeline bench: {MINUTES} min of 16 kHz mono audio ===")
    print(
        f"oggenc -q 2 (reference):        {ref_cpu / hours:7.1f} CPU s / audio h, "
        f"{ref_bytes / hours / 1e6:6.1f} MB / audio h"
    )
    print(
        f"chunk+encode+encrypt+spool:     {cpu / hours:7.1f} CPU s / audio h, "
        f"{size / hours / 1e6:6.1f} MB / audio h   ratio {cpu / ref_cpu:.2f}x oggenc"
    )
    print("RSS MB at " + ", ".join(f"{m} min: {v:.1f}" for m, v in rss.items()))

    try:
        import recorder.audio as audio

        has_capture = hasattr(audio, "Capture") and hasattr(audio, "FileSpec")
    except ImportError:
        has_capture = False
    if has_capture:
        cpu2, frames2, size2, rss2 = _run_pipeline(
            tmp_path / "spool2", lambda: _capture_blocks(long_input)
        )
        assert abs(frames2 - frames) <= RATE  # resampling may round the very end
        print(
            f"capture(file)+resample+pipeline: {cpu2 / hours:7.1f} CPU s / audio h, "
            f"{size2 / hours / 1e6:6.1f} MB / audio h   ratio {cpu2 / ref_cpu:.2f}x oggenc"
        )
        print("RSS MB at " + ", ".join(f"{m} min: {v:.1f}" for m, v in rss2.items()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"peak RSS of the test process: {peak:.1f} MB")
