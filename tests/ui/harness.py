"""Builds the real desktop app (real AmbientCore, real bridge, real widgets) for flow tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.core import AmbientCore
from recorder.events import Event, SessionStateChanged
from recorder.settings import Settings
from recorder.states import ServerStatus, SessionState
from ui.bridge import EventBridge
from ui.controller import Controller
from ui.main_window import MainWindow
from ui.models import COL_SERVER
from ui.worker import wait_for_background

REPO = Path(__file__).resolve().parents[2]
CONSULT = REPO / "samples" / "consult.ogg"
# Uploads that must wait go here: nothing listens on port 9 (discard; privileged, so no test
# run serves it). A port bound and released a moment ago could be taken meanwhile by another
# process's server, e.g. a concurrent run's local server, which takes the same test API key.
CLOSED_URL = "http://127.0.0.1:9/api/v2/ml-scribe/open-api"


def consult_slice(path: Path, seconds: float) -> Path:
    """The first `seconds` of the sample consult as a WAV file (played as the microphone)."""
    audio, rate = sf.read(CONSULT, dtype="float32", frames=int(seconds * 16_000))
    assert rate == 16_000 and len(audio) > 0
    sf.write(path, np.asarray(audio), rate, subtype="PCM_16")
    return path


def heidi_settings(base_url: str, **changes: object) -> Settings:
    """Settings for a Heidi-compatible server at `base_url` (the real local server in tests)."""
    settings = Settings(
        base_url=base_url, region="TEST", email="clinician@example.org", user_id="ui-tests"
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


@dataclass
class App:
    """The app under test, plus what it asked and every event it received."""

    core: AmbientCore
    bridge: EventBridge
    window: MainWindow
    controller: Controller
    questions: list[str] = field(default_factory=list)
    answers: list[bool] = field(default_factory=list)
    quits: list[int] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def server_statuses(self) -> list[str]:
        model = self.window.chunk_model
        return [str(model.index(r, COL_SERVER).data()) for r in range(len(model.rows()))]

    def summary(self) -> str:
        """What the app saw, for failure messages (ids, states and errors; no transcript text)."""
        lines = [f"state={self.controller.state} status={self.window.status.connection.text()!r}"]
        lines.append(f"last error={self.window.status.last_error()!r}")
        for row in self.window.chunk_model.rows():
            lines.append(f"  chunk {row.index}: {row.local} {row.server} {row.error or ''}")
        kinds: dict[str, int] = {}
        for event in self.events:
            kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
        lines.append(f"events: {kinds}")
        for event in self.events:
            if type(event).__name__ in ("ErrorOccurred", "ConnectionChanged", "CaptureProblem"):
                lines.append(f"  {event}")
        return "\n".join(lines)

    def wait(self, qtbot: QtBot, condition: Callable[[], bool], timeout_s: float) -> None:
        """qtbot.waitUntil with the app's summary in the failure message."""
        try:
            qtbot.waitUntil(condition, timeout=int(timeout_s * 1000))
        except Exception as error:
            raise AssertionError(f"{error}\n{self.summary()}") from None

    def start_recording(self, qtbot: QtBot) -> None:
        """Tick consent and press Record, as the clinician does; wait until it has recorded.

        Waits for the core's RECORDING event, not for the state: a short file read flat out
        (speed=0) is recorded and done before a loaded GUI thread gets its next turn, which
        then handles RECORDING and DONE together, and the state was never seen RECORDING.
        """
        before = len(self.events)
        qtbot.mouseClick(self.window.session.consent, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(self.window.controls.main_button, Qt.MouseButton.LeftButton)

        def started() -> bool:
            return any(
                isinstance(event, SessionStateChanged) and event.state is SessionState.RECORDING
                for event in self.events[before:]
            )

        self.wait(qtbot, started, 15)

    def all_ready(self) -> bool:
        rows = self.window.chunk_model.rows()
        return bool(rows) and all(row.server is ServerStatus.READY for row in rows)


@contextmanager
def running_app(
    qtbot: QtBot,
    data_dir: Path,
    settings: Settings,
    source: FileSpec | None,
    use_tray: bool = False,
) -> Iterator[App]:
    """Start the app on `data_dir`; shut the core down afterwards."""
    bridge = EventBridge()
    core = AmbientCore(bridge.emit_event, data_dir=data_dir, settings=settings)
    window = MainWindow()
    qtbot.addWidget(window)
    app = App(core, bridge, window, None)  # type: ignore[arg-type]

    def confirm(question: str) -> bool:
        app.questions.append(question)
        return app.answers.pop(0) if app.answers else False

    app.controller = Controller(
        core,
        bridge,
        window,
        source,
        confirm,
        use_tray=use_tray,
        quit_app=lambda: app.quits.append(1),
    )
    bridge.any_event.connect(app.events.append)
    window.show()
    app.controller.start()
    try:
        yield app
    finally:
        core.shutdown()
        wait_for_background()


def run_app_main(poll: Callable[[], None], every_ms: int = 100, give_up_s: float = 60) -> int:
    """`ui.app.main()` as a user starts it, `poll` run on the GUI thread every `every_ms`; after
    `give_up_s` the app is told to quit, so a stuck app never hangs the suite."""
    from ui.app import main

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(every_ms)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(int(give_up_s * 1000))
    try:
        return main([])
    finally:
        timer.stop()
        give_up.stop()
