"""Upload queue latency and bytes over a sped-up 10-minute consult (run with `make bench`).

Prints, against references measured in the same run:
  commit -> upload start      vs one bare upload round trip of the same chunk
  upload done -> READY seen   vs the server's own chunk turnaround polled every 50 ms
  bytes sent per audio hour   vs 16-bit PCM at the same rate
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from recorder.events import ChunkStateChanged, Event, TranscriptUpdated
from recorder.heidi.retry import Backoff
from recorder.spool import Spool
from recorder.states import ChunkState, RecordingState, ServerStatus
from recorder.upload.service import UploadService
from tests.fixtures.fault_proxy import FaultProxy
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import client_factory, consult_ogg, consult_pcm, make_client

SPEED = 8.0  # times real time
CONSULT_S = 600.0


class Stamps:
    """Monotonic time of the first sighting of each (event kind, chunk index)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[tuple[str, int], float] = {}

    def mark(self, kind: str, index: int) -> None:
        with self.lock:
            self.at.setdefault((kind, index), time.monotonic())

    def __call__(self, event: Event) -> None:
        if isinstance(event, ChunkStateChanged):
            if event.state is ChunkState.UPLOADING:
                self.mark("upload_start", event.index)
            elif event.state is ChunkState.UPLOADED:
                self.mark("uploaded", event.index)
        elif isinstance(event, TranscriptUpdated) and not event.final:
            for chunk in event.chunks:
                if chunk.status is ServerStatus.READY:
                    self.mark("ready", chunk.index)

    def gaps(self, start: str, end: str) -> list[float]:
        with self.lock:
            return [
                self.at[(end, i)] - t
                for (kind, i), t in self.at.items()
                if kind == start and (end, i) in self.at
            ]


def reference_turnaround(base_url: str, api_key: str) -> tuple[float, float]:
    """(bare upload round trip, upload -> READY polled at 50 ms) for one 50 s chunk."""
    audio = consult_ogg(0, 50)
    with make_client(base_url, api_key) as client:
        session_id = client.create_session()
        remote = client.start_segments(session_id)
        started = time.monotonic()
        client.transcribe_segment(session_id, remote, 0, audio)
        uploaded = time.monotonic()
        while True:
            live = client.live_transcript(session_id)
            if live.chunks and live.chunks[0].status is ServerStatus.READY:
                break
            time.sleep(0.05)
        return uploaded - started, time.monotonic() - uploaded


@pytest.mark.bench
def test_upload_latency_and_bytes_over_a_ten_minute_consult(
    tmp_path: Path,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    upload_ref, ready_ref = reference_turnaround(local_server.base_url, local_server.api_key)
    proxy = fault_proxy(local_server.base_url)  # no faults: it only counts the bytes sent
    pcm, rate = consult_pcm()
    repeats = int(np.ceil(CONSULT_S * rate / len(pcm)))
    audio = np.tile(pcm, repeats)[: int(CONSULT_S * rate)]
    stamps = Stamps()
    with Spool.open(tmp_path / "data") as spool:
        rec = spool.create_recording(sample_rate=rate, meta={"consent_obtained": True})
        writer = spool.writer(rec.recording_id)
        svc = UploadService(
            spool,
            client_factory(proxy.url, local_server.api_key),
            stamps,
            backoff=Backoff(0.2, 5.0),
        )
        svc.start()
        block = rate // 10
        began = time.monotonic()
        try:
            for n, at in enumerate(range(0, len(audio), block)):
                for row in writer.write(audio[at : at + block]):
                    stamps.mark("commit", row.index)
                    svc.wake()
                lag = began + (n + 1) * 0.1 / SPEED - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
            for row in writer.close(RecordingState.RECORDED):
                stamps.mark("commit", row.index)
            svc.request_finish(rec.recording_id)
            assert svc.wait_until_done(rec.recording_id, 900)
        finally:
            svc.stop()
        chunks = spool.chunks(rec.recording_id)
        audio_bytes = sum(len(spool.read_chunk_audio(rec.recording_id, c.index)) for c in chunks)
    assert all(c.state is ChunkState.UPLOADED for c in chunks)
    to_start = stamps.gaps("commit", "upload_start")
    to_ready = stamps.gaps("uploaded", "ready")
    hours = CONSULT_S / 3600
    pcm16_per_hour = rate * 2 * 3600
    wire_per_hour = proxy.bytes_up / hours
    print()
    print(f"consult {CONSULT_S:.0f} s at {SPEED:g}x, {len(chunks)} chunks")
    print(f"reference: bare upload {upload_ref * 1000:.0f} ms, server READY {ready_ref:.2f} s")
    print(
        f"commit -> upload start: median {statistics.median(to_start) * 1000:.0f} ms, "
        f"max {max(to_start) * 1000:.0f} ms = {statistics.median(to_start) / upload_ref:.2f}x "
        "a bare upload"
    )
    print(
        f"uploaded -> READY seen: median {statistics.median(to_ready):.2f} s, "
        f"max {max(to_ready):.2f} s = {statistics.median(to_ready) / ready_ref:.2f}x the "
        "server's own turnaround (50 ms polling)"
    )
    print(
        f"bytes per audio hour: audio {audio_bytes / hours / 1e6:.1f} MB, all requests "
        f"{wire_per_hour / 1e6:.1f} MB = {wire_per_hour / pcm16_per_hour:.3f}x 16-bit PCM "
        f"({pcm16_per_hour / 1e6:.0f} MB)"
    )
    assert len(to_start) == len(chunks)
