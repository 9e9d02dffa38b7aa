"""kill -9 of a client process mid-upload, then `ambient-recorder resume` finishes the recording."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from recorder.spool import Spool
from recorder.states import ChunkState, RecordingState
from tests.fixtures.fault_proxy import Fault, FaultProxy
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import (
    EMAIL,
    REPO,
    USER_ID,
    record_consult,
    repeated_ngrams,
    wait_for,
    words,
)

UPLOADER = """
import sys, time
from recorder.heidi.client import HeidiClient
from recorder.heidi.retry import Backoff
from recorder.spool import Spool
from recorder.upload.service import UploadService

data_dir, url, key, EMAIL, USER_ID = sys.argv[1:6]
spool = Spool.open(data_dir)
service = UploadService(
    spool,
    lambda: HeidiClient(url, key, email=EMAIL, user_id=USER_ID),
    lambda event: None,
    backoff=Backoff(0.05, 0.5),
    live_transcript=False,
)
service.start()
for rec in spool.recordings():
    service.request_finish(rec.recording_id)
print("uploading", flush=True)
time.sleep(600)
"""


def test_kill_9_mid_upload_then_resume_completes_without_duplicates(
    tmp_path: Path,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    data_dir = tmp_path / "data"
    with Spool.open(data_dir) as spool:
        rid = record_consult(spool, 32, chunk_s=8)
        count = len(spool.chunks(rid))
    assert count >= 4

    proxy = fault_proxy(local_server.base_url)
    transcribes = 0
    lock = threading.Lock()

    def stall_third_chunk(line: str, _number: int) -> Fault | None:
        nonlocal transcribes
        if ":transcribe" not in line:
            return None
        with lock:
            transcribes += 1
            return Fault("stall", seconds=15) if transcribes == 3 else None

    proxy.set_rule(stall_third_chunk)
    script = tmp_path / "uploader.py"
    script.write_text(UPLOADER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(data_dir),
            proxy.url,
            local_server.api_key,
            EMAIL,
            USER_ID,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: transcribes >= 3, timeout=60)
        with Spool.open(data_dir) as spool:
            assert wait_for(lambda: spool.chunk(rid, 2).state is ChunkState.UPLOADING, 10)
        os.kill(child.pid, signal.SIGKILL)  # mid-upload of chunk 2: nothing flushed
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    proxy.set_rule(None)

    with Spool.open(data_dir) as spool:
        before = spool.chunks(rid)
        assert [c.state for c in before[:2]] == [ChunkState.UPLOADED] * 2
        assert before[2].state is ChunkState.UPLOADING and before[2].attempts == 1
        assert spool.recording(rid).state is RecordingState.RECORDED

    env.update(HEIDI_API_KEY=local_server.api_key, HEIDI_EMAIL=EMAIL, HEIDI_USER_ID=USER_ID)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recorder",
            "resume",
            "--data-dir",
            str(data_dir),
            "--server",
            proxy.url,
            "--timeout",
            "120",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"recording {rid}: done" in done.stdout
    transcript = done.stdout.split("--- transcript ---")[1].split("\n---")[0]
    assert {"morning", "cough"} <= set(words(transcript))
    assert repeated_ngrams(transcript) == []

    with Spool.open(data_dir) as spool:
        after = spool.chunks(rid)
        assert [c.state for c in after] == [ChunkState.UPLOADED] * count
        assert after[2].attempts == 2  # resent once after the kill, not more
        rec = spool.recording(rid)
        assert rec.state is RecordingState.DONE
        assert rec.session_id and rec.remote_recording_id  # the same session was reused

    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "recorder",
            "resume",
            "--data-dir",
            str(data_dir),
            "--server",
            proxy.url,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0
    assert "nothing to resume" in again.stderr


def test_resume_with_the_server_unreachable_keeps_everything_queued(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Spool.open(data_dir) as spool:
        rid = record_consult(spool, 9, chunk_s=8)
    env = {
        **os.environ,
        "HEIDI_API_KEY": "k",
        "HEIDI_EMAIL": EMAIL,
        "HEIDI_USER_ID": USER_ID,
        "AMBIENT_RECORDER_OFFLINE_GRACE_S": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recorder",
            "resume",
            "--data-dir",
            str(data_dir),
            "--server",
            "http://127.0.0.1:9/api",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4, done.stderr[-2000:]
    assert "resume" in done.stderr  # tells the user what to do later
    with Spool.open(data_dir) as spool:
        assert spool.recording(rid).state is RecordingState.RECORDED
        assert all(c.state is not ChunkState.UPLOADED for c in spool.chunks(rid))
        assert spool.read_chunk_audio(rid, 0)
