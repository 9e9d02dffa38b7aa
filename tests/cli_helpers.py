"""Run the real `ambient-recorder` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "samples" / "consult.ogg"
SAMPLE_TEXT = REPO_ROOT / "samples" / "consult.txt"


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
