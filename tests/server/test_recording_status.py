"""`recording_status` on the live transcript picks recordings by their state.

Heidi documents the query parameter (default `in_progress`) but not its values; the local
server takes `in_progress` (recordings not yet finished) and `completed` (finished
recordings and whole-file uploads). Without it every chunk is shown, as the client expects.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.support import Api
from tests.server.test_bad_input import assert_error


def _live(api: Api, session_id: str, status: str) -> dict[str, Any]:
    response = api.client.get(
        f"/sessions/{session_id}/transcript/live", params={"recording_status": status}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_recording_status_separates_finished_from_open_recordings(
    api: Api, short_chunks: list[bytes]
) -> None:
    session_id = api.new_session()
    finished = api.new_recording(session_id)
    still_open = api.new_recording(session_id)
    assert api.send_chunk(session_id, finished, 0, short_chunks[0]).status_code == 200
    assert api.send_chunk(session_id, still_open, 0, short_chunks[1]).status_code == 200
    assert api.finish(session_id, finished).json() == {"is_success": True}
    everything = api.wait_settled(session_id)
    texts = {c["id"]: c["text"] for c in everything["chunks"]}
    assert set(texts) == {f"{finished}-0", f"{still_open}-0"} and all(texts.values())

    in_progress = _live(api, session_id, "in_progress")
    assert [c["id"] for c in in_progress["chunks"]] == [f"{still_open}-0"]
    assert in_progress["transcript"] == texts[f"{still_open}-0"]

    completed = _live(api, session_id, "completed")
    assert [c["id"] for c in completed["chunks"]] == [f"{finished}-0"]
    assert completed["transcript"] == texts[f"{finished}-0"]

    # Finishing the open recording moves it from one view to the other.
    api.finish(session_id, still_open)
    assert _live(api, session_id, "in_progress")["chunks"] == []
    assert len(_live(api, session_id, "completed")["chunks"]) == 2


def test_a_whole_file_upload_counts_as_completed(api: Api, short_chunks: list[bytes]) -> None:
    session_id = api.new_session()
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("a.ogg", short_chunks[2], "audio/ogg")},
    )
    assert response.status_code == 200, response.text
    upload_id = response.json()["uploaded_audio"]["id"]
    assert [c["id"] for c in _live(api, session_id, "completed")["chunks"]] == [upload_id]
    assert _live(api, session_id, "in_progress")["chunks"] == []


@pytest.mark.parametrize("status", ["done", "IN_PROGRESS", "", "x" * 40])
def test_an_unknown_recording_status_is_422(api: Api, status: str) -> None:
    session_id = api.new_session()
    response = api.client.get(
        f"/sessions/{session_id}/transcript/live", params={"recording_status": status}
    )
    msg = assert_error(response, 422, "ValidationError")
    assert "recording_status" in msg and "in_progress" in msg
