"""The data folder fills up mid-consult, in the real app on a real 2 MB tmpfs (needs root).

What the clinician sees: recording stops with the reason and that everything recorded so far is
kept (not "the 0 chunks already recorded are safe"); once space is freed the app saves that
audio from its journal by itself, shows its chunks, uploads and transcribes them, and says so;
before, that waited for the next start of the app and nothing said so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import ElapsedChanged
from recorder.states import SessionState
from tests.fixtures.tiny_disk import fill_disk, tiny_tmpfs
from tests.ui.harness import CLOSED_URL, consult_slice, heidi_settings, running_app
from ui.status_style import Tone

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with tiny_tmpfs(tmp_path / "mnt") as mount:
        yield mount


def test_disk_full_mid_consult_keeps_the_audio_and_saves_it_once_freed(
    qtbot: QtBot,
    tmp_path: Path,
    tiny_disk: Path,
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    consult = consult_slice(tmp_path / "consult-40s.wav", 40.0)
    settings = heidi_settings(local_server.base_url)
    with running_app(qtbot, tiny_disk / "data", settings, FileSpec(consult, speed=4)) as app:
        w = app.window
        app.wait(qtbot, lambda: w.status.connection.text().startswith("Connected"), 30)
        app.start_recording(qtbot)

        def recorded_s() -> float:
            times = [e.elapsed_s for e in app.events if isinstance(e, ElapsedChanged)]
            return max(times, default=0.0)

        app.wait(qtbot, lambda: recorded_s() >= 2.0, 20)
        filler = fill_disk(tiny_disk, leave_bytes=200_000)  # ~3 s more of journal
        app.wait(qtbot, lambda: app.controller.state is SessionState.FAILED, 30)
        error = w.status.last_error()
        assert "is full or not writable" in error and "recording stopped" in error
        assert "Everything recorded so far" in error and "is kept" in error
        assert "0 chunks" not in error
        assert w.controls.main_button.text() == "Record", "a new recording can be started"
        assert not w.chunk_model.rows(), "nothing committed yet: the audio is in the journal"
        qtbot.mouseClick(w.controls.main_button, Qt.MouseButton.LeftButton)  # Record, still full
        app.wait(qtbot, lambda: w.controls.hint_label.text().startswith("Not recording"), 30)
        assert "is full or not writable" in w.controls.hint_label.text()

        filler.unlink()  # the clinician (or IT) frees space; the app is not restarted
        app.wait(qtbot, lambda: bool(w.chunk_model.rows()), 30)
        app.wait(qtbot, app.all_ready, 90)
        saved = sum(row.duration_s for row in w.chunk_model.rows())
        assert saved >= 4.0, f"only {saved:.1f} s saved"
        assert w.transcript.model.text().strip(), "the consult's words are transcribed"
        assert w.status.last_error().startswith("The data folder can be written to again")
        assert "Press Record" in w.status.last_error()


def test_uploads_stopped_by_a_full_disk_go_on_and_the_error_is_then_past(
    qtbot: QtBot,
    tmp_path: Path,
    tiny_disk: Path,
    local_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks waiting to upload when the disk is full: the queue cannot note its progress, says
    so in red, and goes on once space is freed; its error is then shown as past (it stayed red
    after every chunk was transcribed)."""
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    consult = consult_slice(tmp_path / "consult-20s.wav", 20.0)
    data = tiny_disk / "data"
    with running_app(qtbot, data, heidi_settings(CLOSED_URL), FileSpec(consult, speed=0)) as app:
        w = app.window
        app.start_recording(qtbot)
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 60)
        filler = fill_disk(tiny_disk, leave_bytes=0)
        app.core.apply_settings(heidi_settings(local_server.base_url))
        app.wait(qtbot, lambda: w.status.last_error().startswith("Upload queue problem"), 30)
        assert "is full or not writable" in w.status.last_error()
        assert w.status.error_tone is Tone.BAD

        filler.unlink()
        app.wait(qtbot, app.all_ready, 90)
        assert w.status.error_tone is Tone.NEUTRAL, "the queue's problem is over"
        assert w.status.error.text().startswith("Earlier, ")
