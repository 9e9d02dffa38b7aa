"""The start-up offer of unfinished recordings, when the uploads finish the recording first.

The core uploads every recording it finds at start, offer or not; a clinician who reads the
offer slowly answers after the final transcript arrived. The window must then show that
transcript, not "[chunk 1 — transcribing…]" for ever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import TranscriptUpdated
from recorder.states import SessionState
from tests.ui.harness import CLOSED_URL, consult_slice, heidi_settings, running_app

pytestmark = pytest.mark.slow


def test_offer_answered_after_the_upload_finished_shows_the_final_transcript(
    qtbot: QtBot, tmp_path: Path, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    audio = consult_slice(tmp_path / "consult-50s.wav", 50.0)
    data = tmp_path / "data"
    offline = heidi_settings(CLOSED_URL)
    with running_app(qtbot, data, offline, FileSpec(audio, speed=0)) as first:
        first.start_recording(qtbot)
        first.wait(qtbot, lambda: first.controller.state is SessionState.DONE, 60)
        recording_id = first.window.chunk_model.recording_id

    with running_app(qtbot, data, heidi_settings(local_server.base_url), None) as second:

        def finished_in_background() -> bool:
            return any(
                isinstance(e, TranscriptUpdated) and e.final and e.recording_id == recording_id
                for e in second.events
            )

        second.wait(qtbot, lambda: second.controller.recovery_dialog is not None, 30)
        second.wait(qtbot, finished_in_background, 120)  # the offer is still unanswered
        dialog = second.controller.recovery_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.upload_button.click()
        second.wait(qtbot, second.all_ready, 30)
        transcript = second.window.transcript
        second.wait(qtbot, lambda: "[chunk" not in transcript.model.text(), 30)
        assert transcript.model.text().strip()
        assert transcript.model.final
        assert transcript.status.text().startswith("Final transcript")
