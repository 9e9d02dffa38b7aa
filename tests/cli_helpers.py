"""Run the real `ambient-recorder` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import queue
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from recorder.crypto import HEADER_BYTES, TAG_BYTES
from recorder.spool import JOURNAL_NAME

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "samples" / "consult.ogg"
SAMPLE_TEXT = REPO_ROOT / "samples" / "consult.txt"
RATE = 16_000  # the recordings' sample rate (the sample consult's)
_JOURNAL_HEADER = struct.Struct(">4sBQ")  # recorder.journal: b"ARJL" | version | start frame


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The test process's environment with its own data and config dirs."""
    env = {**os.environ, "AMBIENT_RECORDER_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env["AMBIENT_RECORDER_CONFIG_DIR"] = str(data_dir.parent / (data_dir.name + "-config"))
    for key in ("HEIDI_BASE_URL", "HEIDI_API_KEY", "HEIDI_EMAIL", "HEIDI_USER_ID"):
        env.pop(key, None)
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "recorder", *args]


def run_cli(
    data_dir: Path, *args: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run one command to completion and capture its output."""
    return subprocess.run(
        cli_command(*args),
        cwd=REPO_ROOT,
        env=cli_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_record(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.Popen[str]:
    """Start `ambient-recorder record ARGS` and return once it says the recording started."""
    proc = subprocess.Popen(
        cli_command("record", *args),
        cwd=REPO_ROOT,
        env=cli_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while "started" not in proc.stderr.readline():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the recording never started")
    return proc


class Lines:
    """Every line a stream prints, as it comes (read on a thread so the pipe never fills)."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float) -> str:
        """The first line (from here on) holding `text`; AssertionError after `timeout` s."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came; saw:\n{''.join(self.seen)}")

    def rest(self, timeout: float = 10.0) -> str:
        """Everything the stream printed, once it has ended (the process exited)."""
        self._reader.join(timeout)
        while not self._queue.empty():
            self.seen.append(self._queue.get())
        return "".join(self.seen)


def on_disk(data: Path) -> tuple[int, int]:
    """(frames in committed chunks, frames in committed chunks and the journal) of the one
    recording: its journal's start frame, plus every whole record in it (one being written now
    is left out). The format (recorder.journal): b"ARJL" | version | start_frame (u64) |
    (length (u32) | sealed float32 PCM)*. (0, 0) while there is no journal."""
    try:
        [path] = data.glob(f"spool/*/{JOURNAL_NAME}")
        raw = path.read_bytes()
    except (ValueError, FileNotFoundError):  # not made yet, or replaced just now
        return 0, 0
    if len(raw) < _JOURNAL_HEADER.size:
        return 0, 0
    magic, _version, start_frame = _JOURNAL_HEADER.unpack_from(raw)
    assert magic == b"ARJL"
    frames, pos = start_frame, _JOURNAL_HEADER.size
    while pos + 4 <= len(raw):
        (length,) = struct.unpack_from(">I", raw, pos)
        if pos + 4 + length > len(raw):
            break
        frames += (length - HEADER_BYTES - TAG_BYTES) // 4
        pos += 4 + length
    return int(start_frame), int(frames)


def wait_journaled(proc: subprocess.Popen[str], data: Path, seconds: float) -> int:
    """Wait (120 s at most) until the recording in `data` has a committed chunk and `seconds`
    of the next one journaled; the frames then on disk (see on_disk)."""
    give_up = time.monotonic() + 120
    while True:
        committed, held = on_disk(data)
        if committed and held - committed >= seconds * RATE:
            return held
        assert proc.poll() is None, "the recording ended by itself"
        assert time.monotonic() < give_up, f"no chunk committed with {seconds} s journaled after it"
        time.sleep(0.05)
