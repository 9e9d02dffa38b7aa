"""The desktop app through faults, against the real core and real local servers:
a rejected chunk and its Retry action, the crash-recovery prompt, and a server outage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.crypto import chunk_label
from recorder.events import ChunkStateChanged, ConnectionChanged
from recorder.spool import Spool
from recorder.states import ChunkState, ServerStatus, SessionState
from tests.ui.harness import CLOSED_URL, consult_slice, heidi_settings, running_app
from ui.models import COL_LOCAL, RETRYABLE_ROLE
from ui.status_style import Tone

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def consult_50s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return consult_slice(tmp_path_factory.mktemp("audio") / "consult-50s.wav", 50.0)


@pytest.fixture(scope="module")
def consult_100s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return consult_slice(tmp_path_factory.mktemp("audio") / "consult-100s.wav", 100.0)


def test_rejected_chunk_is_retried_from_the_chunk_list(
    qtbot: QtBot,
    tmp_path: Path,
    make_local_server: Callable[..., Any],
    consult_50s: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = make_local_server(max_upload_mb=0.001)  # every chunk is "too large": 413
    monkeypatch.setenv("HEIDI_API_KEY", server.api_key)
    settings = heidi_settings(server.base_url)
    with running_app(qtbot, tmp_path / "data", settings, FileSpec(consult_50s, speed=0)) as app:
        w = app.window
        app.wait(qtbot, lambda: w.status.connection.text().startswith("Connected"), 30)
        app.start_recording(qtbot)
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 60)
        model = w.chunk_model

        def all_rejected() -> bool:
            rows = model.rows()
            return bool(rows) and all(r.local is ChunkState.REJECTED for r in rows)

        app.wait(qtbot, all_rejected, 60)
        assert model.index(0, COL_LOCAL).data() == "rejected"
        assert model.rows()[0].error, "a rejected chunk says why"
        assert model.index(0, 0).data(RETRYABLE_ROLE)
        assert w.transcript.model.text().startswith("[chunk 1 — upload rejected; audio kept]")
        assert not w.chunks.retry_button.isEnabled()  # nothing selected yet
        w.chunks.table.selectRow(0)
        assert w.chunks.retry_button.isEnabled()

        server.max_upload_mb = None  # the practice fixes the limit; the audio was kept
        server.restart()
        for row in range(len(model.rows())):
            w.chunks.table.selectRow(row)
            assert w.chunks.retry_button.isEnabled()
            w.chunks.retry_button.click()
        app.wait(qtbot, app.all_ready, 120)
        assert all(r.local is ChunkState.UPLOADED for r in model.rows())
        assert "[chunk" not in w.transcript.model.text()


def test_chunk_the_server_could_not_transcribe_is_sent_again_by_retry(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    consult_100s: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mid-consult (paused), chunk 1 reaches the server damaged and is FAILED there; once the
    cause is gone, Retry sends it again and it is transcribed. Retry used to do nothing."""
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    data = tmp_path / "data"
    # speed 4: after chunk 1 (cut at 45-60 s) the file plays 10-14 s more, so Pause lands
    # while it still records even with a GUI thread held up for seconds (at 8x: 5-7 s)
    source = FileSpec(consult_100s, speed=4)
    with running_app(qtbot, data, heidi_settings(CLOSED_URL), source) as app:
        w, model = app.window, app.window.chunk_model
        app.start_recording(qtbot)
        app.wait(qtbot, lambda: bool(model.rows()), 60)  # chunk 1 is in the spool
        w.controls.pause_action.trigger()
        app.wait(qtbot, lambda: app.controller.state is SessionState.PAUSED, 30)
        rid = model.recording_id
        assert rid is not None
        spool = Spool.open(data)
        try:  # damaged on its way (here: cut short in the spool), so the server FAILS it
            path = spool.chunk_path(rid, 0)
            kept = path.read_bytes()
            audio = spool.read_chunk_audio(rid, 0)
            path.write_bytes(spool.cipher.seal(audio[:-300], chunk_label(rid, 0)))
        finally:
            spool.close()
        app.core.apply_settings(heidi_settings(local_server.base_url))
        app.wait(qtbot, lambda: model.rows()[0].server is ServerStatus.FAILED, 60)
        assert "[chunk 1 — transcription failed]" in w.transcript.model.text()

        path.write_bytes(kept)  # the cause is gone (e.g. the server's fault was transient)
        w.chunks.table.selectRow(0)
        assert w.chunks.retry_button.isEnabled()
        w.chunks.retry_button.click()
        app.wait(qtbot, lambda: model.rows()[0].server is ServerStatus.READY, 60)
        assert "transcription failed" not in w.transcript.model.text()
        assert app.controller.state is SessionState.PAUSED, "the consult went on meanwhile"
        w.controls.stop_action.trigger()
        app.wait(qtbot, app.all_ready, 120)


def test_unfinished_recording_is_offered_and_uploaded_at_start(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    consult_50s: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    data = tmp_path / "data"
    offline = heidi_settings(CLOSED_URL)
    with running_app(qtbot, data, offline, FileSpec(consult_50s, speed=0)) as first:
        first.start_recording(qtbot)
        first.wait(qtbot, lambda: first.controller.state is SessionState.DONE, 60)
        first.wait(qtbot, lambda: first.window.status.connection.text().startswith("Offline"), 60)
        assert "waiting to upload" in first.window.status.connection.text()
        assert first.controller.busy_reason().endswith("still waiting to upload")
        recording_id = first.window.chunk_model.recording_id

    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, data, settings, None) as second:
        second.wait(qtbot, lambda: second.controller.recovery_dialog is not None, 30)
        dialog = second.controller.recovery_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.list.count() == 1
        assert re.search(r"— 0 of [12] chunks uploaded \(", dialog.list.item(0).text())
        dialog.upload_button.click()
        assert second.window.chunk_model.recording_id == recording_id
        second.wait(qtbot, second.all_ready, 120)
        assert second.window.transcript.model.text().strip()


def test_status_bar_tells_the_truth_through_a_server_outage(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    consult_100s: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    settings = heidi_settings(local_server.base_url)
    # speed 4: from chunk 1 uploaded to the file's end is ~9 s, time to stop the server
    # before chunk 2 is cut even with a GUI thread held up (at 8x: ~4 s)
    source = FileSpec(consult_100s, speed=4)
    try:
        with running_app(qtbot, tmp_path / "data", settings, source) as app:
            status = app.window.status.connection
            app.wait(qtbot, lambda: status.text().startswith("Connected"), 30)
            app.start_recording(qtbot)
            model = app.window.chunk_model
            # mid-consult: the session is made and the first chunk is in, then the server goes
            app.wait(qtbot, lambda: ChunkState.UPLOADED in (r.local for r in model.rows()), 60)
            local_server.stop()
            app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 60)
            rows = model.rows()
            assert len(rows) >= 2 and all(r.local is not ChunkState.UPLOADED for r in rows[1:])

            def offline_with_all_waiting() -> bool:
                waiting = sum(r.local is not ChunkState.UPLOADED for r in model.rows())
                chunks = "chunk" if waiting == 1 else "chunks"
                return status.text().startswith(f"Offline — {waiting} {chunks} waiting to upload")

            app.wait(qtbot, offline_with_all_waiting, 60)
            assert app.window.status.last_error(), "the reason is shown in plain words"
            # each failed try used to be followed by "Connected" (and the reason by "Earlier")
            since = next(
                i
                for i, e in enumerate(app.events)
                if isinstance(e, ConnectionChanged) and e.mode == "offline" and e.last_error
            )
            tries = _failed_tries(app.events[since:])
            app.wait(qtbot, lambda: _failed_tries(app.events[since:]) > tries, 60)
            modes = [e.mode for e in app.events[since:] if isinstance(e, ConnectionChanged)]
            assert set(modes) == {"offline"}, modes
            assert status.text().startswith("Offline")
            assert app.window.status.error_tone is not Tone.NEUTRAL, "not shown as past"
            local_server.start()
            app.wait(qtbot, app.all_ready, 150)
            assert status.text().startswith("Connected to Heidi")
    finally:
        if not local_server.running:
            local_server.start()


def _failed_tries(events: list[Any]) -> int:
    return sum(isinstance(e, ChunkStateChanged) and e.state is ChunkState.RETRYING for e in events)
