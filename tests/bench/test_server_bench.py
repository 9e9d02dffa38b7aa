"""Benchmarks of the local server (run with -m bench; never part of the test suite).

Prints ratios against references measured in the same run:
- server overhead: a 60 s chunk through HTTP (upload -> READY) vs faster-whisper called
  directly on the same file with the same settings (goal: <= 10 % overhead);
- accuracy: WER of the consult sent as live chunks vs the whole file at once;
- throughput: 10 sessions uploading at once; audio seconds per wall second, and how long
  the uploads take to be acknowledged while the worker is busy;
- memory: peak RSS of the server while it transcribes a 30 / 60 min whole-file upload,
  next to its RSS when idle (model loaded) in the same run.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import soundfile as sf

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import (
    BLOCK,
    CONSULT_OGG,
    RATE,
    Api,
    api_for,
    quiet_cuts,
    read_consult,
    reference_text,
    split,
    wer,
    write_ogg,
)

pytestmark = pytest.mark.bench
REPEATS = 5


ACKS: list[float] = []


def _through_server(api: Api, data: bytes) -> float:
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    started = time.perf_counter()
    assert api.send_chunk(session_id, recording_id, 0, data).status_code == 200
    ACKS.append(time.perf_counter() - started)
    while api.live(session_id)["chunks"][0]["status"] == "PENDING":
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert api.live(session_id)["chunks"][0]["status"] == "READY"
    return elapsed


def _direct(path: Path) -> Callable[[], float]:
    import os

    from faster_whisper import WhisperModel, decode_audio

    from server.transcriber import default_model_path

    model = WhisperModel(
        str(default_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=os.cpu_count() or 1,
        local_files_only=True,
    )

    def run() -> float:
        started = time.perf_counter()
        samples = decode_audio(str(path), sampling_rate=RATE)
        segments, _ = model.transcribe(
            samples, beam_size=5, vad_filter=False, condition_on_previous_text=False
        )
        assert " ".join(s.text for s in segments).strip()
        return time.perf_counter() - started

    return run


def test_server_overhead_on_a_60_s_chunk(
    make_local_server: Callable[..., LocalServerProcess], tmp_path: Path
) -> None:
    chunk = write_ogg(tmp_path / "sixty.ogg", read_consult()[: 60 * RATE])
    data = chunk.read_bytes()
    server = make_local_server()
    api = api_for(server.base_url, server.api_key)
    _through_server(api, data)  # warm-up: the server loads its model on first use
    direct_run = _direct(chunk)
    direct_run()  # warm-up
    served, direct = [], []
    for _ in range(REPEATS):  # interleaved, so load from other processes hits both alike
        served.append(_through_server(api, data))
        direct.append(direct_run())
    s, d = statistics.median(served), statistics.median(direct)
    worker = [
        float(x)
        for x in re.findall(
            r"READY \(60\.0 s of audio in ([0-9.]+) s\)", server.log_path.read_text()
        )
    ][1:]
    w, ack = statistics.median(worker), statistics.median(ACKS[1:])
    print(
        f"\n60 s chunk: server {s:.2f} s (RTF {s / 60:.3f}), direct faster-whisper {d:.2f} s "
        f"(RTF {d / 60:.3f}); server/direct = {s / d:.3f} (overhead {100 * (s / d - 1):+.1f} %); "
        f"of the server's time: upload acknowledged {ack * 1000:.0f} ms, worker (decode, "
        f"integrity check, transcribe) {w:.2f} s = {w / d:.3f} x direct"
    )


def test_wer_of_live_chunks_vs_the_whole_file(
    make_local_server: Callable[..., LocalServerProcess], tmp_path: Path
) -> None:
    server = make_local_server()
    api = api_for(server.base_url, server.api_key)
    audio = read_consult()
    chunks = split(audio, quiet_cuts(audio))
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    for index, piece in enumerate(chunks):
        data = write_ogg(tmp_path / f"{index}.ogg", piece).read_bytes()
        assert api.send_chunk(session_id, recording_id, index, data).status_code == 200
    live = api.wait_settled(session_id, timeout=600)["transcript"]
    whole_session = api.new_session()
    response = api.client.post(
        f"/sessions/{whole_session}/upload-audio",
        files={"file": ("consult.ogg", CONSULT_OGG.read_bytes(), "audio/ogg")},
    )
    assert response.status_code == 200
    whole = api.client.get(f"/sessions/{whole_session}/transcript").json()["transcript"]
    live_wer, whole_wer = wer(reference_text(), live), wer(reference_text(), whole)
    print(
        f"\nWER: {len(chunks)} live chunks {live_wer:.3f}, whole file {whole_wer:.3f}; "
        f"live/whole = {live_wer / whole_wer:.2f}; live vs whole transcript WER "
        f"{wer(whole, live):.3f}"
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_throughput_with_ten_concurrent_sessions(
    make_local_server: Callable[..., LocalServerProcess], tmp_path: Path, workers: int
) -> None:
    seconds = 45
    data = write_ogg(tmp_path / "c.ogg", read_consult()[: seconds * RATE]).read_bytes()
    server = make_local_server(workers=workers)
    warm = api_for(server.base_url, server.api_key)
    single = _through_server(warm, data)  # also loads the model
    single = _through_server(warm, data)
    apis = [
        api_for(server.base_url, server.api_key, f"u{i}@example.org", f"u{i}") for i in range(10)
    ]

    def one(api: Api) -> tuple[str, float]:
        session_id = api.new_session()
        recording_id = api.new_recording(session_id)
        started = time.perf_counter()
        assert api.send_chunk(session_id, recording_id, 0, data).status_code == 200
        return session_id, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, apis))
    for api, (session_id, _) in zip(apis, results, strict=True):
        api.wait_settled(session_id, timeout=900)
    wall = time.perf_counter() - started
    acks = sorted(t for _, t in results)
    print(
        f"\n10 sessions x {seconds} s at once ({workers} worker(s)): all READY in {wall:.1f} s = "
        f"{10 * seconds / wall:.1f} audio s per s; one chunk alone {single:.2f} s; "
        f"wall / (10 x alone) = {wall / (10 * single):.2f}; upload acknowledged in "
        f"median {statistics.median(acks) * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms"
    )


def _long_consult(path: Path, repeats: int) -> Path:
    """The consult `repeats` times in one OGG Vorbis file, written block by block."""
    audio = read_consult()
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, format="OGG") as out:
        for _ in range(repeats):
            for start in range(0, len(audio), BLOCK):
                out.write(audio[start : start + BLOCK])
    return path


def _rss_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (peak so far) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


@pytest.mark.parametrize("minutes", [30, 60])
def test_server_memory_while_transcribing_a_long_whole_file_upload(
    make_local_server: Callable[..., LocalServerProcess], tmp_path: Path, minutes: int
) -> None:
    repeats = -(-minutes * 60 * RATE // len(read_consult()))  # whole consults, >= minutes
    path = _long_consult(tmp_path / "long.ogg", repeats)
    server = make_local_server(max_upload_mb=200, transcript_wait_s=5)
    assert server.process is not None
    pid = server.process.pid
    api = api_for(server.base_url, server.api_key)
    warm = write_ogg(tmp_path / "warm.ogg", read_consult()[: 10 * RATE]).read_bytes()
    _through_server(api, warm)  # loads the model: the idle server is one ready to work
    time.sleep(1.0)
    idle = _rss_kib(pid, "VmRSS")
    session_id = api.new_session()
    started = time.perf_counter()
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("long.ogg", path.read_bytes(), "audio/ogg")},
    )
    assert response.status_code == 200, response.text
    uploaded = _rss_kib(pid, "VmHWM")  # peak so far: receiving and probing the file
    body = api.wait_settled(session_id, timeout=4 * 3600)  # the GET queues the lazy upload
    wall = time.perf_counter() - started
    peak = _rss_kib(pid, "VmHWM")
    chunk = body["chunks"][0]
    assert chunk["status"] == "READY", chunk
    score = wer(" ".join([reference_text()] * repeats), body["transcript"])
    print(
        f"\n{chunk['duration'] / 60:.1f} min whole-file upload ({path.stat().st_size / 1e6:.1f} MB"
        f" OGG): server RSS idle {idle / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB"
        f" (+{(peak - idle) / 1024:.0f} MiB; peak once the upload was stored, before its"
        f" transcription: {uploaded / 1024:.0f} MiB); transcribed in {wall:.0f} s"
        f" (RTF {wall / chunk['duration']:.3f}); WER vs the consult x{repeats} {score:.3f}"
    )
