"""A server killed mid-queue loses nothing: every accepted chunk is READY after a restart."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from server.transcriber import default_model_path
from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import Api, api_for, reference_text, wer


def test_sigkill_with_a_full_queue_then_restart_transcribes_every_chunk(
    local_server: LocalServerProcess, api: Api, consult_chunks: list[bytes]
) -> None:
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    for index, chunk in enumerate(consult_chunks):
        assert api.send_chunk(session_id, recording_id, index, chunk).status_code == 200
    before = api.live(session_id)
    pending_at_kill = sum(c["status"] == "PENDING" for c in before["chunks"])
    assert pending_at_kill >= 2  # 4 x ~50 s of audio cannot all be done this quickly

    local_server.restart(hard=True)  # SIGKILL: no graceful shutdown, a chunk mid-transcription

    after = api.wait_settled(session_id)
    assert [c["id"] for c in after["chunks"]] == [f"{recording_id}-{i}" for i in range(4)]
    assert [c["status"] for c in after["chunks"]] == ["READY"] * 4
    assert wer(reference_text(), after["transcript"]) <= 0.25
    # The recording is still open after the restart and still takes chunks.
    assert api.finish(session_id, recording_id).json() == {"is_success": True}


def test_lazy_upload_survives_a_restart_before_any_transcript_get(
    local_server: LocalServerProcess, api: Api, short_chunks: list[bytes]
) -> None:
    session_id = api.new_session()
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("a.ogg", short_chunks[3], "audio/ogg")},
    )
    assert response.status_code == 200
    local_server.restart(hard=True)
    final = api.client.get(f"/sessions/{session_id}/transcript")
    assert final.status_code == 200 and final.json()["transcript"]


def test_a_model_that_cannot_load_keeps_chunks_pending_until_it_is_fixed(
    tmp_path: Path, short_chunks: list[bytes]
) -> None:
    broken = tmp_path / "broken-model"
    shutil.copytree(default_model_path(), broken)
    (broken / "model.bin").write_bytes(b"not a model")
    server = LocalServerProcess(data_dir=tmp_path / "data", model=broken)
    server.start()
    try:
        api = api_for(server.base_url, server.api_key)
        session_id = api.new_session()
        recording_id = api.new_recording(session_id)
        assert api.send_chunk(session_id, recording_id, 0, short_chunks[0]).status_code == 200
        deadline = time.monotonic() + 30
        while "the model cannot be loaded" not in server.log_path.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert [c["status"] for c in api.live(session_id)["chunks"]] == ["PENDING"]
        server.stop()
        server.model = None  # fixed: the bundled model
        server.start()
        body = api.wait_settled(session_id)
        assert [c["status"] for c in body["chunks"]] == ["READY"] and body["transcript"]
        api.client.close()
    finally:
        server.stop()
