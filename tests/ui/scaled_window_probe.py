"""Opens the main window as the app does and prints what fits, as JSON (for test_layout).

Run in its own process: QT_SCALE_FACTOR (like a 144 dpi desktop) and the offscreen screen's
size must be set before Qt starts, which a test process that already has a QApplication can't.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget


def _fully_visible(widget: QWidget) -> bool:
    return widget.visibleRegion().boundingRect() == widget.rect()


def main() -> None:
    app = QApplication(sys.argv)
    from ui.main_window import WINDOW_FRAME_PX, MainWindow

    window = MainWindow()
    window.show()
    app.processEvents()
    room: QRect = window.screen().availableGeometry()
    pane = window.left_pane
    inner = pane.widget()
    label = window.session.consent_text
    reachable = {}
    for widget in (
        window.controls.main_button,
        window.controls.stop_button,
        window.level,
        window.devices.combo,
        window.devices.refresh,
        window.session.patient,
        window.session.consent,
        label,
        window.session.language,
    ):
        pane.ensureWidgetVisible(widget)
        app.processEvents()
        reachable[widget.accessibleName() or type(widget).__name__] = _fully_visible(widget)
    report = {
        "scale": window.devicePixelRatio(),
        "room": [room.width(), room.height()],
        "frame": WINDOW_FRAME_PX,
        "window": [window.width(), window.height()],
        "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
        "reachable": reachable,
        "consent_whole": label.height() >= label.heightForWidth(label.width()),
        "pane_not_cut": pane.viewport().width() >= inner.minimumSizeHint().width()
        and inner.width() <= pane.viewport().width(),
        "right_width": window.chunks.width(),
        "transcript_width": window.transcript.width(),
        "status_whole": window.status.connection.shown_text() == window.status.connection.text(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
