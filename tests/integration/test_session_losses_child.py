"""Child process for test_session_losses: a real RecordingSession the test can freeze (SIGSTOP).

Usage: python -m tests.integration.test_session_losses_child DEVICE RATE CHANNELS DATA_DIR

Records from DEVICE (opened at RATE x CHANNELS) into the spool in DATA_DIR with 2-3 s chunks,
prints "ready" once audio is recorded, and stops when a line "stop" arrives on stdin, then
waits for the session to finish. Prints "done" when the recording is closed. Holds no test.
"""

from __future__ import annotations

import sys
import time

from recorder.audio import MicrophoneSpec
from recorder.events import ignore_event
from recorder.session import ConsultMeta, RecordingSession, SessionOptions
from recorder.spool import Spool


def main(device: str, rate: int, channels: int, data_dir: str) -> None:
    spool = Spool.open(data_dir)
    session = RecordingSession(
        spool,
        MicrophoneSpec(device, device_rate=rate, channels=channels),
        ConsultMeta(True),
        ignore_event,
        options=SessionOptions(chunk_min_s=2.0, chunk_max_s=3.0),
    )
    session.start()
    give_up = time.monotonic() + 20
    while session.elapsed_s == 0 and time.monotonic() < give_up:
        time.sleep(0.05)
    print("ready" if session.elapsed_s else "no audio", flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    session.stop()
    print("done" if session.wait(60) else "hung", flush=True)
    spool.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
