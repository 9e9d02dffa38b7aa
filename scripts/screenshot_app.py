"""Run the real desktop app mid-consult and save a screenshot (called by scripts/screenshot.sh).

No Heidi account is configured, so the core starts the embedded local server,
exactly as on a fresh workstation. The sample consult is played as the
microphone; the window is grabbed once a chunk is READY and the next one is
still on its way, i.e. mid-consult.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _dark_palette() -> object:
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in (
        (role.Window, "#202124"),
        (role.WindowText, "#e8eaed"),
        (role.Base, "#17181a"),
        (role.AlternateBase, "#2a2b2e"),
        (role.Text, "#e8eaed"),
        (role.Button, "#2d2e31"),
        (role.ButtonText, "#e8eaed"),
        (role.Highlight, "#3b82f6"),
        (role.HighlightedText, "#ffffff"),
    ):
        palette.setColor(name, QColor(colour))
    return palette


def main(out: Path, speed: float, timeout_s: float) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="ambient-screenshot-"))
    os.environ["AMBIENT_RECORDER_DATA_DIR"] = str(scratch / "data")
    os.environ["AMBIENT_RECORDER_CONFIG_DIR"] = str(scratch / "config")
    for name in ("HEIDI_BASE_URL", "HEIDI_API_KEY", "HEIDI_EMAIL", "HEIDI_USER_ID"):
        os.environ.pop(name, None)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from recorder.audio import FileSpec
    from recorder.core import AmbientCore
    from recorder.states import ServerStatus, SessionState
    from ui.bridge import EventBridge
    from ui.controller import Controller
    from ui.main_window import MainWindow, app_icon

    app = QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    if os.environ.get("SCREENSHOT_DARK"):  # check the status colours on a dark palette too
        app.setStyle("Fusion")
        app.setPalette(_dark_palette())
    bridge = EventBridge()
    core = AmbientCore(bridge.emit_event)
    window = MainWindow()
    source = FileSpec(REPO / "samples" / "consult.ogg", speed=speed)
    controller = Controller(core, bridge, window, source, use_tray=False, quit_app=app.quit)
    window.resize(1200, 720)
    window.show()
    controller.start()
    started = time.monotonic()
    taken: list[bool] = []

    def poll() -> None:
        rows = window.chunk_model.rows()
        ready = sum(r.server is ServerStatus.READY for r in rows)
        waiting = sum(r.server is ServerStatus.PENDING for r in rows)
        state = controller.state
        if not window.controls.main_button.isEnabled() and state is SessionState.IDLE:
            if window.status.connection.text().startswith("Local"):
                window.session.patient.setText("Demo patient 0042")
                window.session.consent.setChecked(True)
                controller.record()
            return
        mid_consult = state is SessionState.RECORDING and ready >= 1 and waiting >= 1
        if (mid_consult or time.monotonic() - started > timeout_s) and not taken:
            taken.append(True)
            out.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(out))
            print(f"saved {out} (ready={ready}, waiting={waiting}, state={state.value})")
            controller.guard.quit_now()  # as logout does: the last chunk is flushed, then quit

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(250)
    code = app.exec()
    return code if taken else 1


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshot.png"
    sys.exit(main(target, speed=float(os.environ.get("SCREENSHOT_SPEED", "3")), timeout_s=150))
