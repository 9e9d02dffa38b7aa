"""Child process for test_capture_overflow: a real Capture the test can freeze (SIGSTOP).

Usage: python -m tests.integration.test_capture_overflow_child DEVICE RATE CHANNELS OUT

Prints "ready" once the input delivers, reads like the session does (every 100 ms) until a
line "stop" arrives on stdin, then stops, drains, and writes OUT.npy (16 kHz mono, everything
read) and OUT.json (losses, problems, stats). Holds no test itself.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict

import numpy as np

from recorder.audio import Capture, MicrophoneSpec
from recorder.audio.losses import AudioLoss
from recorder.events import CaptureProblem


def main(device: str, rate: int, channels: int, out: str) -> None:
    cap = Capture(MicrophoneSpec(device, device_rate=rate, channels=channels), ring_seconds=10)
    parts: list[np.ndarray] = []
    losses: list[AudioLoss] = []
    problems: list[CaptureProblem] = []
    stop = threading.Event()
    threading.Thread(target=lambda: _wait_stop(stop), daemon=True).start()
    cap.start()
    give_up = time.monotonic() + 20
    while cap.stats.frames_captured == 0 and time.monotonic() < give_up:
        parts.append(cap.read(0.05))
    print("ready" if cap.stats.frames_captured else "no audio", flush=True)
    while not stop.is_set():
        parts.append(cap.read(0.1))
        problems += cap.problems()
        losses += cap.losses()
    cap.stop()
    while not cap.finished:
        parts.append(cap.read(0.1))
    problems += cap.problems()
    losses += cap.losses()
    np.save(out + ".npy", np.concatenate(parts))
    report = {
        "losses": [asdict(loss) for loss in losses],
        "problems": [asdict(problem) for problem in problems],
        "stats": asdict(cap.stats),
    }
    with open(out + ".json", "w", encoding="utf-8") as file:
        json.dump(report, file)


def _wait_stop(stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
