"""The upload queue over the real spool and the real local server (and a real faulty proxy)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jiwer
import pytest

from recorder.errors import RecorderError
from recorder.events import (
    ChunkStateChanged,
    ConnectionChanged,
    ErrorOccurred,
    RecordingStateChanged,
    TranscriptUpdated,
)
from recorder.heidi.client import Timeouts
from recorder.heidi.retry import Backoff
from recorder.logs import url_host
from recorder.spool import NotFoundError, Spool
from recorder.states import ChunkState, RecordingState
from recorder.upload.service import UploadService
from tests.fixtures.fault_proxy import Fault, FaultProxy
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import (
    REPO,
    Events,
    client_factory,
    consult_pcm,
    record_consult,
    repeated_ngrams,
    wait_for,
    words,
)

FAST = Backoff(base_s=0.05, cap_s=0.5)


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool.open(tmp_path / "data") as opened:
        yield opened


def service(
    spool: Spool, base_url: str, api_key: str, events: Events, **kw: object
) -> UploadService:
    kw.setdefault("backoff", FAST)
    kw.setdefault("poll_fast_s", 0.5)
    factory = client_factory(base_url, api_key, **kw.pop("client_kw", {}))  # type: ignore[arg-type]
    return UploadService(spool, factory, events, mode="local", **kw)  # type: ignore[arg-type]


def uploading_order(events: Events, rid: str) -> list[int]:
    return [
        e.index
        for e in events.of(ChunkStateChanged)
        if e.recording_id == rid and e.state is ChunkState.UPLOADING
    ]


def test_chunks_go_in_order_then_finish_final_transcript_and_retention(
    spool: Spool, local_server: LocalServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rid = record_consult(spool, 24, chunk_s=8)
    count = len(spool.chunks(rid))
    assert count >= 3
    events = Events()
    svc = service(spool, local_server.base_url, local_server.api_key, events)
    svc.start()
    svc.request_finish(rid)
    try:
        assert svc.wait_until_done(rid, 120)
    finally:
        svc.stop()
    assert uploading_order(events, rid) == list(range(count))  # each once, in index order
    rows = spool.chunks(rid)
    assert [c.state for c in rows] == [ChunkState.UPLOADED] * count
    assert [c.server_status for c in rows] == ["READY"] * count
    rec = spool.recording(rid)
    assert rec.session_id and rec.remote_recording_id
    states = [e.state for e in events.of(RecordingStateChanged) if e.recording_id == rid]
    assert states == [RecordingState.FINISHED, RecordingState.DONE]
    final = events.final(rid)
    assert [c.index for c in final.chunks] == list(range(count))
    assert {"morning", "seat", "cough"} <= set(words(final.transcript))
    assert repeated_ngrams(final.transcript) == []
    assert svc.pending_count() == 0
    logged = caplog.text.lower()
    assert caplog.records  # the queue did log (at debug) ...
    for word in ("cough", "weeks", "seat", "morning", "clinician@example.org"):
        assert word not in logged  # ... but never transcript text or the clinician's email

    # Retention: nothing is deleted before 24 h after the final transcript; everything after.
    assert svc.purge_expired() == 0
    assert spool.read_chunk_audio(rid, 0)
    later = UploadService(
        spool,
        client_factory(local_server.base_url, local_server.api_key),
        events,
        clock=lambda: time.time() + 25 * 3600,
    )
    assert later.purge_expired() == count
    assert all(c.audio_deleted_at is not None for c in spool.chunks(rid))
    with pytest.raises(NotFoundError):
        spool.read_chunk_audio(rid, 0)


def test_full_consult_through_a_faulty_network_arrives_complete(
    spool: Spool,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    proxy = fault_proxy(local_server.base_url)
    proxy.schedule(
        Fault("drop", match="POST /api"),  # the very first call (sign-in or session) is lost
        Fault("drop", match=":transcribe"),  # before the server sees it
        Fault("503", match=":transcribe"),
        Fault("503", match=":transcribe"),
        Fault("429", seconds=1, match=":transcribe"),
        Fault("drop_after", match=":transcribe"),  # the server got it; the answer is lost
        Fault("stall", seconds=3, match=":transcribe"),  # longer than the client's read timeout
        Fault("500", match=":transcribe"),
        Fault("502", match="/transcript/live"),
        Fault("504", match=":finish"),
        Fault("drop", match=":finish"),
        Fault("503", match="GET /api/v2/ml-scribe/open-api/sessions/"),
    )
    rid = record_consult(spool, 160, chunk_s=20)
    count = len(spool.chunks(rid))
    events = Events()
    svc = service(
        spool,
        proxy.url,
        local_server.api_key,
        events,
        client_kw={"timeouts": Timeouts(connect=2, read=2, write=5, pool=2, slow_read=120)},
    )
    svc.start()
    svc.request_finish(rid)
    try:
        assert svc.wait_until_done(rid, 300)
    finally:
        svc.stop()
    assert proxy.pending_faults() == 0  # every scheduled fault really happened
    rows = spool.chunks(rid)
    assert [c.state for c in rows] == [ChunkState.UPLOADED] * count  # 100 % delivered
    assert sum(c.attempts for c in rows) >= count + 6  # the retries happened and were recorded
    retried = [e for e in events.of(ChunkStateChanged) if e.state is ChunkState.RETRYING]
    assert retried and all(e.error and e.next_attempt_at for e in retried)
    assert any(e.mode == "offline" for e in events.of(ConnectionChanged))
    final = events.final(rid)
    assert [c.index for c in final.chunks] == list(range(count))
    assert repeated_ngrams(final.transcript) == []  # no chunk transcribed twice
    reference = (REPO / "samples" / "consult.txt").read_text()
    error_rate = jiwer.wer(" ".join(words(reference)), " ".join(words(final.transcript)))
    print(f"WER through the faulty proxy: {error_rate:.3f} ({count} chunks)")
    assert error_rate < 0.35


def test_rejected_chunk_keeps_audio_later_chunks_go_user_retry_finishes(
    spool: Spool,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="recorder")
    proxy = fault_proxy(local_server.base_url)
    proxy.schedule(Fault("413", match=":transcribe"))  # chunk 0 refused as too large
    rid = record_consult(spool, 24, chunk_s=8)
    count = len(spool.chunks(rid))
    events = Events()
    svc = service(spool, proxy.url, local_server.api_key, events)
    svc.start()
    svc.request_finish(rid)
    try:
        assert wait_for(
            lambda: (
                [c.state for c in spool.chunks(rid)]
                == [ChunkState.REJECTED] + [ChunkState.UPLOADED] * (count - 1)
            ),
            timeout=60,
        )
        assert not svc.wait_until_done(rid, 2.0)  # a gap is never finished silently
        assert spool.recording(rid).state is RecordingState.RECORDED
        chunk0 = spool.chunk(rid, 0)
        assert chunk0.error and "413" in chunk0.error
        assert spool.read_chunk_audio(rid, 0)  # the audio is kept
        assert any("Chunk 0" in e.message for e in events.of(ErrorOccurred))
        rejected = [r for r in caplog.records if "audit: chunk.rejected" in r.getMessage()]
        assert [(r.levelno, r.getMessage()) for r in rejected] == [
            (
                logging.WARNING,
                f"audit: chunk.rejected recording={rid} index=0 attempts=1 "
                "error=RejectedError status=413",
            )
        ]
        svc.retry_chunk(rid, 0)
        assert svc.wait_until_done(rid, 120)
    finally:
        svc.stop()
    assert [c.state for c in spool.chunks(rid)] == [ChunkState.UPLOADED] * count
    assert "morning" in words(events.final(rid).transcript)


def test_network_down_at_stop_then_back_completes(
    spool: Spool,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    proxy = fault_proxy(local_server.base_url)
    proxy.down()  # connections refused
    rid = record_consult(spool, 16, chunk_s=8)
    events = Events()
    svc = service(spool, proxy.url, local_server.api_key, events)
    svc.start()
    svc.request_finish(rid)
    try:
        assert wait_for(lambda: len(events.of(ConnectionChanged)) > 0, timeout=60)
        offline = events.of(ConnectionChanged)[0]
        assert offline.mode == "offline" and offline.waiting_chunks == len(spool.chunks(rid))
        assert offline.exit_code == 4
        assert not svc.wait_until_done(rid, 1.5)
        assert all(c.state is not ChunkState.UPLOADED for c in spool.chunks(rid))
        proxy.up()
        assert svc.wait_until_done(rid, 120)
    finally:
        svc.stop()
    assert all(c.state is ChunkState.UPLOADED for c in spool.chunks(rid))
    assert events.of(ConnectionChanged)[-1].mode == "local"


def test_server_restart_mid_session_loses_nothing(
    spool: Spool, local_server: LocalServerProcess
) -> None:
    rid = record_consult(spool, 24, chunk_s=8)
    count = len(spool.chunks(rid))
    events = Events()
    svc = service(spool, local_server.base_url, local_server.api_key, events)
    svc.start()
    try:
        assert wait_for(lambda: spool.chunk(rid, 0).state is ChunkState.UPLOADED, timeout=120)
        local_server.restart()  # same port and data; our JWT and session must still work
        svc.request_finish(rid)
        assert svc.wait_until_done(rid, 180)
    finally:
        svc.stop()
        if not local_server.running:
            local_server.start()
    final = events.final(rid)
    assert [c.index for c in final.chunks] == list(range(count))
    assert {"morning", "cough"} <= set(words(final.transcript))


def test_wrong_key_keeps_chunks_queued_and_says_so(
    spool: Spool, local_server: LocalServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="recorder")
    rid = record_consult(spool, 10, chunk_s=8)
    events = Events()
    svc = service(spool, local_server.base_url, "wrong-key", events)
    svc.start()
    svc.request_finish(rid)
    try:
        assert wait_for(lambda: bool(events.of(ErrorOccurred)), timeout=60)
    finally:
        svc.stop()
    assert "access refused" in events.of(ErrorOccurred)[0].message
    assert all(c.state is not ChunkState.REJECTED for c in spool.chunks(rid))
    assert events.of(ConnectionChanged)[-1].exit_code == 3
    offline = [r.getMessage() for r in caplog.records if "audit: upload.offline" in r.getMessage()]
    assert offline == [
        f"audit: upload.offline host={url_host(local_server.base_url)} error=AuthError "
        f"waiting_chunks={len(spool.chunks(rid))}"
    ]
    assert "wrong-key" not in caplog.text
    assert spool.recording(rid).state is RecordingState.RECORDED
    assert not events.of(TranscriptUpdated)


def test_a_missing_chunk_file_is_reported_and_does_not_block_the_rest(
    spool: Spool, local_server: LocalServerProcess
) -> None:
    rid = record_consult(spool, 16, chunk_s=8)
    spool.chunk_path(rid, 0).unlink()  # e.g. removed by hand or by a cleaner
    events = Events()
    svc = service(spool, local_server.base_url, local_server.api_key, events)
    svc.start()
    try:
        assert wait_for(
            lambda: (
                [c.state for c in spool.chunks(rid)][:2]
                == [ChunkState.REJECTED, ChunkState.UPLOADED]
            ),
            timeout=120,
        )
        assert not svc.wait_until_done(rid, 1.0)  # the gap is not finished over silently
    finally:
        svc.stop()
    assert "missing" in (spool.chunk(rid, 0).error or "")
    assert any("Chunk 0" in e.message for e in events.of(ErrorOccurred))


def test_server_that_lost_the_session_gets_the_whole_recording_again(
    spool: Spool, make_local_server: Callable[..., LocalServerProcess]
) -> None:
    server = make_local_server()
    pcm, rate = consult_pcm()
    rec = spool.create_recording(sample_rate=rate, chunk_min_s=6, chunk_max_s=8)
    rid = rec.recording_id
    writer = spool.writer(rid)
    events = Events()
    svc = service(spool, server.base_url, server.api_key, events)
    svc.start()
    try:
        writer.write(pcm[: 16 * rate])
        svc.wake()
        assert wait_for(
            lambda: sum(c.state is ChunkState.UPLOADED for c in spool.chunks(rid)) >= 2, 120
        )
        first_session = spool.recording(rid).session_id
        server.stop()
        shutil.rmtree(server.data_dir)  # the server's data is gone (reset, or a new machine)
        server.start()
        writer.write(pcm[16 * rate : 24 * rate])
        writer.close(RecordingState.RECORDED)
        svc.wake()
        assert svc.wait_until_done(rid, 120)
    finally:
        svc.stop()
    rec = spool.recording(rid)
    assert rec.session_id and rec.session_id != first_session
    count = len(spool.chunks(rid))
    assert all(c.state is ChunkState.UPLOADED for c in spool.chunks(rid))
    assert any("sent again" in e.message for e in events.of(ErrorOccurred))
    final = events.final(rid)
    assert [c.index for c in final.chunks] == list(range(count))
    assert {"morning", "cough"} <= set(words(final.transcript))
    assert repeated_ngrams(final.transcript) == []


def test_a_session_purged_before_the_final_transcript_is_sent_again(
    spool: Spool, make_local_server: Callable[..., LocalServerProcess]
) -> None:
    """:finish was sent, then the app stayed away until the server purged the session."""
    server = make_local_server()
    pcm, rate = consult_pcm()
    rec = spool.create_recording(sample_rate=rate, chunk_min_s=6, chunk_max_s=8)
    rid = rec.recording_id
    writer = spool.writer(rid)
    writer.write(pcm[: 16 * rate])
    writer.close(RecordingState.RECORDED)
    first = service(spool, server.base_url, server.api_key, Events())
    first.start()
    try:
        first.wake()
        assert first.wait_until_done(rid, 120)
    finally:
        first.stop()
    first_session = spool.recording(rid).session_id
    # The final transcript was never fetched (the app was closed right after :finish) ...
    spool.set_recording_state(rid, RecordingState.FINISHED)
    # ... and meanwhile the server dropped the session (retention, or a reset).
    server.stop()
    shutil.rmtree(server.data_dir)
    server.start()
    events = Events()
    again = service(spool, server.base_url, server.api_key, events)
    again.start()
    try:
        again.wake()
        assert again.wait_until_done(rid, 120)
    finally:
        again.stop()
    rec = spool.recording(rid)
    assert rec.state is RecordingState.DONE
    assert rec.session_id and rec.session_id != first_session
    assert any("sent again" in e.message for e in events.of(ErrorOccurred))
    final = events.final(rid)
    count = len(spool.chunks(rid))
    assert [c.index for c in final.chunks] == list(range(count))
    assert "morning" in words(final.transcript)
    assert repeated_ngrams(final.transcript) == []


def test_finishing_without_a_rejected_chunk_is_the_users_explicit_choice(
    spool: Spool,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    proxy = fault_proxy(local_server.base_url)
    proxy.schedule(Fault("400", match=":transcribe"))
    rid = record_consult(spool, 16, chunk_s=8)
    events = Events()
    svc = service(spool, proxy.url, local_server.api_key, events)
    svc.start()
    try:
        assert wait_for(lambda: spool.chunk(rid, 0).state is ChunkState.REJECTED, timeout=120)
        svc.request_finish(rid, skip_rejected=True)
        assert svc.wait_until_done(rid, 60)
        with pytest.raises(RecorderError, match="already finished"):
            svc.retry_chunk(rid, 0)
    finally:
        svc.stop()
    assert spool.chunk(rid, 0).state is ChunkState.REJECTED
    assert spool.read_chunk_audio(rid, 0)  # still kept after the recording is done
    count = len(spool.chunks(rid))
    assert [c.index for c in events.final(rid).chunks] == list(range(1, count))


def test_stop_during_a_hanging_upload_leaves_quietly_and_keeps_the_chunk_queued(
    tmp_path: Path,
    local_server: LocalServerProcess,
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    """Quitting while an upload hangs: the thread ends, no error, nothing marked uploaded."""
    proxy = fault_proxy(local_server.base_url)
    proxy.schedule(Fault("stall", seconds=8, match=":transcribe"))
    data = tmp_path / "stall"
    spool = Spool.open(data)
    rid = record_consult(spool, 20, chunk_s=20)
    events = Events()
    svc = service(
        spool,
        proxy.url,
        local_server.api_key,
        events,
        client_kw={"timeouts": Timeouts(connect=2, read=60, write=60, pool=2, slow_read=120)},
    )
    others = [t for t in threading.enumerate() if t.name == "upload-queue"]  # other tests'
    svc.start()
    assert wait_for(lambda: spool.chunks(rid)[0].state is ChunkState.UPLOADING, 60)
    time.sleep(0.5)  # the request is now hanging in the proxy
    svc.stop(timeout=0.2)  # shorter than the hang: stop gives up waiting, as at app exit
    spool.close()
    # the thread ends once the 8 s hang is over and the server has answered
    assert wait_for(
        lambda: (
            not [t for t in threading.enumerate() if t.name == "upload-queue" and t not in others]
        ),
        60,
    )
    problems = [e.message for e in events.of(ErrorOccurred) if "queue problem" in e.message]
    assert problems == []
    with Spool.open(data) as reopened:
        assert reopened.chunks(rid)[0].state is not ChunkState.UPLOADED  # sent again next time
