"""The desktop app writes an audit log for practice IT, with no patient data in it.

`ui.app.main()` itself (its own startup path) runs a short consult played from a file against
the real local server: the rotating log in the data folder holds the audit lines of the whole
consult (start, where uploads go, recording started/stopped, each chunk uploaded, finished,
final transcript, exit) and none of the patient reference, the transcript's words or the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import Event, TranscriptUpdated
from recorder.logs import log_path
from recorder.states import SessionState
from tests.ui.harness import consult_slice, run_app_main
from ui.controller import Controller
from ui.main_window import MainWindow

pytestmark = pytest.mark.slow

PATIENT = "Zebediah Quartermaine MRN-559201"
# words spoken in the first 70 s of samples/consult.ogg that no log line has a reason to hold
CONSULT_WORDS = ("cough", "phlegm", "fever", "chills", "sweats", "wheezing", "breath", "stairs")


def _window() -> MainWindow | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return next((w for w in found if w.isVisible()), None)


class ConsultDriver:
    """Drives the app main() shows, from a timer: connect, record the file, stop, close."""

    def __init__(self, qtbot: QtBot, audio: Path) -> None:
        self.qtbot = qtbot
        self.audio = audio
        self.step = "connect"
        self.events: list[Event] = []
        self.controller: Controller | None = None

    def final(self) -> TranscriptUpdated | None:
        return next((e for e in self.events if isinstance(e, TranscriptUpdated) and e.final), None)

    def poll(self) -> None:
        window = _window()
        if window is None:
            return
        if self.step == "connect":
            controller = window.findChild(Controller)
            if controller is None or not window.status.connection.text().startswith("Connected"):
                return
            self.controller = controller
            controller.bridge.any_event.connect(self.events.append)
            controller.source = FileSpec(self.audio, speed=10)  # the file as the microphone
            window.session.patient.setText(PATIENT)
            self.qtbot.mouseClick(window.session.consent, Qt.MouseButton.LeftButton)
            self.qtbot.mouseClick(window.controls.main_button, Qt.MouseButton.LeftButton)
            self.step = "recording"
        elif self.step == "recording":
            assert self.controller is not None
            if self.controller.state is SessionState.DONE and self.final() is not None:
                self.step = "closing"
                window.close()  # idle and uploaded: the close guard shuts down and quits


def test_app_logs_an_audit_trail_of_a_consult_without_patient_data(
    qtbot: QtBot, tmp_path: Path, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEIDI_BASE_URL", local_server.base_url)
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    monkeypatch.setenv("HEIDI_EMAIL", "clinician@example.org")
    monkeypatch.setenv("HEIDI_USER_ID", "ui-audit")
    data = Path(os.environ["AMBIENT_RECORDER_DATA_DIR"])  # the root conftest's, per test
    driver = ConsultDriver(qtbot, consult_slice(tmp_path / "consult-70s.wav", 70.0))
    code = run_app_main(driver.poll, give_up_s=180)
    assert code == 0
    final = driver.final()
    assert driver.step == "closing" and final is not None, f"stuck at {driver.step}"

    log_file = log_path(data)
    assert log_file.is_file(), "the app wrote no log file in its data folder"
    text = log_file.read_text(encoding="utf-8")
    audit = [line.split("audit: ", 1)[1] for line in text.splitlines() if "audit: " in line]
    rid = final.recording_id
    host = re.sub(r"^https?://([^/]+).*$", r"\1", local_server.base_url)
    chunks = len(final.chunks)
    assert chunks == 2, final.chunks  # 70 s of audio: cut once between 45 and 60 s

    def one(pattern: str) -> str:
        found = [line for line in audit if re.fullmatch(pattern, line)]
        assert len(found) == 1, f"{pattern!r} in:\n" + "\n".join(audit)
        return found[0]

    one(rf'start program=app version=\S+ pid={os.getpid()} platform=\S+ data_dir="?{data}"?')
    one(rf"upload\.target mode=heidi host={host} ca_bundle=False")
    one(rf"upload\.online mode=heidi host={host}")
    one(rf"recording\.started recording={rid}")
    one(rf"recording\.stopped recording={rid} chunks={chunks} duration_s=70\.0")
    for index in range(chunks):
        one(rf"chunk\.uploaded recording={rid} index={index} attempts=1 host={host}")
    one(rf"recording\.finished recording={rid} chunks={chunks} duration_s=70\.0 host={host}")
    one(rf"transcript\.final recording={rid} session={final.session_id} chunks={chunks}")
    assert audit[-1] == "exit program=app code=0", audit[-1]

    # no patient data, no secret: the reference typed in, the words spoken, the clinician's
    # e-mail, the key, a JWT
    lowered = text.lower()
    spoken = [w for w in CONSULT_WORDS if w in final.transcript.lower()]
    assert len(spoken) >= 4, f"too few consult words were transcribed to check: {spoken}"
    for word in (*spoken, "zebediah", "quartermaine", "559201", "clinician@example.org"):
        assert word not in lowered, word
    assert local_server.api_key not in text
    assert "eyJ" not in text, "a JWT (or part of one) is in the log"
