"""Helper process for the kill -9 test: feeds a RecordingWriter from a file at real-time speed.

Usage: python crash_writer.py DATA_DIR AUDIO_FILE MIN_S MAX_S
Prints "rec <recording_id>" once, then "fed <frames>" after each write() returns (that audio is
journaled by then), and never exits on its own: the test SIGKILLs it.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import soundfile as sf

from recorder.spool import Spool

BLOCK = 1_600  # 100 ms at 16 kHz, what the session's writer thread drains per tick


def main() -> None:
    """Record AUDIO_FILE into the spool in DATA_DIR, paced like a microphone."""
    data_dir, audio_file, min_s, max_s = sys.argv[1:5]
    audio, rate = sf.read(audio_file, dtype="float32")
    assert rate == 16_000
    spool = Spool.open(data_dir)
    rec = spool.create_recording(chunk_min_s=float(min_s), chunk_max_s=float(max_s))
    writer = spool.writer(rec.recording_id)
    print(f"rec {rec.recording_id}", flush=True)
    started = time.monotonic()
    for pos in range(0, len(audio), BLOCK):
        writer.write(np.asarray(audio[pos : pos + BLOCK]))
        print(f"fed {min(pos + BLOCK, len(audio))}", flush=True)
        delay = started + (pos + BLOCK) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    time.sleep(3600)


if __name__ == "__main__":
    main()
