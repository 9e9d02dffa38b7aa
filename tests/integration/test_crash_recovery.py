"""kill -9 of a real recording process: recovery keeps everything it had journaled."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recorder.spool import JOURNAL_NAME, Spool
from recorder.states import ChunkState, RecordingState

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "consult.ogg"
HELPER = Path(__file__).with_name("crash_writer.py")
RATE = 16_000


def _run_and_kill(data_dir: Path, after_s: float) -> tuple[str, int]:
    """Start the helper, SIGKILL it once it has fed `after_s` of audio; (recording_id, fed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), str(data_dir), str(SAMPLE), "1.5", "2.0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    recording_id, fed = "", 0
    lines: list[str] = []
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")))
    reader.start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"helper exited early with {proc.returncode}")
            fed = max([int(x.split()[1]) for x in lines if x.startswith("fed ")], default=0)
            if fed >= after_s * RATE:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)
    recording_id = next(x.split()[1] for x in lines if x.startswith("rec "))
    fed = max(int(x.split()[1]) for x in lines if x.startswith("fed "))  # incl. lines after kill
    return recording_id, fed


@pytest.mark.parametrize("kill_after_s", [4.3])
def test_sigkill_mid_recording_loses_at_most_a_second(
    tmp_path: Path, kill_after_s: float, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="recorder")
    data_dir = tmp_path / "data"
    recording_id, fed = _run_and_kill(data_dir, kill_after_s)

    spool = Spool.open(data_dir)
    assert spool.recording(recording_id).state == RecordingState.RECORDING
    before = len(spool.chunks(recording_id))
    assert before >= 1  # chunks were committed before the kill, and a journal was in progress
    assert (spool.root / recording_id / JOURNAL_NAME).exists()

    recovered = spool.recover_interrupted()
    assert [r.recording_id for r in recovered] == [recording_id]
    rec = spool.recording(recording_id)
    assert rec.state == RecordingState.INTERRUPTED
    chunks = spool.chunks(recording_id)
    assert len(chunks) >= before + 1
    assert all(c.state == ChunkState.QUEUED for c in chunks)
    assert not (spool.root / recording_id / JOURNAL_NAME).exists()
    audit = [m for r in caplog.records if (m := r.getMessage()).startswith("audit: recording.")]
    assert audit == [
        f"audit: recording.recovered recording={recording_id} chunks={len(chunks)} "
        f"from_journal={len(chunks) - before}"
    ]

    pcm = np.concatenate([spool.read_chunk_pcm(recording_id, c.index) for c in chunks])
    # Every block the helper reported as fed is recovered; at most one more (unreported) block.
    assert fed - RATE <= len(pcm) <= fed + 1_600
    assert len(pcm) >= fed
    source, _ = sf.read(SAMPLE, dtype="float32", frames=len(pcm))
    # Lossy codec: compare shape per second, not bits.
    for start in range(0, len(pcm) - RATE, RATE):
        a, b = pcm[start : start + RATE], source[start : start + RATE]
        if np.std(b) > 1e-3:
            assert np.corrcoef(a, b)[0, 1] > 0.9, f"second {start // RATE} differs"
    assert rec.duration_s == pytest.approx(len(pcm) / RATE)
    spool.close()
