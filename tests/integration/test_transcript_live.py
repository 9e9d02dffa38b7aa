"""The live transcript while recording: READY chunks appear before Stop; then the final one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.events import TranscriptUpdated
from recorder.heidi.errors import RejectedError
from recorder.heidi.retry import Backoff
from recorder.spool import Spool
from recorder.states import RecordingState, ServerStatus
from recorder.transcript import TranscriptPoller
from recorder.upload.service import UploadService
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import (
    Events,
    client_factory,
    consult_ogg,
    consult_pcm,
    make_client,
    wait_for,
    words,
)


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool.open(tmp_path / "data") as opened:
        yield opened


def test_live_updates_while_recording_then_final(
    spool: Spool, local_server: LocalServerProcess
) -> None:
    pcm, rate = consult_pcm()
    rec = spool.create_recording(
        sample_rate=rate, meta={"consent_obtained": True}, chunk_min_s=6, chunk_max_s=8
    )
    rid = rec.recording_id
    writer = spool.writer(rid)
    events = Events()
    svc = UploadService(
        spool,
        client_factory(local_server.base_url, local_server.api_key),
        events,
        backoff=Backoff(0.05, 0.5),
        poll_fast_s=0.3,
    )
    svc.start()

    def live_ready() -> int:
        live = [e for e in events.of(TranscriptUpdated) if not e.final]
        if not live:
            return 0
        return sum(1 for c in live[-1].chunks if c.status is ServerStatus.READY)

    try:
        for at in range(0, 17 * rate, rate // 2):  # 17 s "captured" in half-second blocks
            if writer.write(pcm[at : at + rate // 2]):
                svc.wake()
        # Still recording: the first chunks are already transcribed and shown.
        assert wait_for(lambda: live_ready() >= 2, timeout=60)
        assert spool.recording(rid).state is RecordingState.RECORDING
        live = [e for e in events.of(TranscriptUpdated) if not e.final]
        assert "morning" in words(live[-1].transcript)
        assert [c.server_status for c in spool.chunks(rid)][:2] == ["READY", "READY"]
        # Updates are emitted on change only, never repeated unchanged.
        pairs = itertools.pairwise(live)
        assert all((a.chunks, a.transcript) != (b.chunks, b.transcript) for a, b in pairs)

        svc.request_finish(rid)  # too early: capture has not ended, so nothing is finished
        assert not svc.wait_until_done(rid, 1.0)
        assert spool.recording(rid).state is RecordingState.RECORDING
        writer.close(RecordingState.RECORDED)
        svc.wake()
        assert svc.wait_until_done(rid, 120)
    finally:
        svc.stop()
    final = events.final(rid)
    assert final.final
    assert all(c.status is ServerStatus.READY for c in final.chunks)
    assert {"morning", "seat", "cough"} <= set(words(final.transcript))


def test_poller_on_its_own_follows_a_session(local_server: LocalServerProcess) -> None:
    events = Events()
    with make_client(local_server.base_url, local_server.api_key) as client:
        session_id = client.create_session()
        remote = client.start_segments(session_id)
        poller = TranscriptPoller(
            client, "local-rec", session_id, events, remote_recording_id=remote, fast_s=0.2
        )
        assert poller.poll_once() is not None  # the first (empty) state is news
        assert poller.poll_once() is None  # unchanged: nothing emitted
        client.transcribe_segment(session_id, remote, 0, consult_ogg(0, 5))
        poller.start()
        try:
            assert wait_for(
                lambda: (
                    poller.latest is not None
                    and [c.status for c in poller.latest.chunks] == [ServerStatus.READY]
                ),
                timeout=30,
            )
        finally:
            poller.stop()
        client.finish_segments(session_id, remote)
        final = poller.fetch_final()
    assert final.final and final.recording_id == "local-rec"
    assert "morning" in words(final.transcript)
    assert events.items[-1] is final


def test_poller_reports_an_unknown_session_as_rejected(local_server: LocalServerProcess) -> None:
    with make_client(local_server.base_url, local_server.api_key) as client:
        poller = TranscriptPoller(client, "r", "no-such-session", Events())
        with pytest.raises(RejectedError):
            poller.poll_once()
