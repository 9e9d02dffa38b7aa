"""The main window: composition of the widgets only; the controller wires them to the core."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.chunk_view import ChunkView
from ui.device_picker import DevicePicker
from ui.level_meter import LevelMeter
from ui.models import ChunkTableModel
from ui.record_button import RecordControls
from ui.session_panel import SessionPanel
from ui.status_bar import StatusBar
from ui.transcript_model import TranscriptModel
from ui.transcript_view import TranscriptView

ICON_PATH = Path(__file__).with_name("resources") / "app-icon.svg"
WINDOW_FRAME_PX = 40  # title bar and borders the window manager adds


def app_icon() -> QIcon:
    """The application icon (SVG, scales to any size)."""
    return QIcon(str(ICON_PATH))


def _group(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    for widget in widgets:
        layout.addWidget(widget)
    return box


class ScrollToFocus(QObject):
    """Scrolls a pane to the field of it that gets the keyboard focus, also from outside it
    (Tab from the transcript, the focus at start): QScrollArea does so only within itself."""

    def __init__(self, pane: QScrollArea, inner: QWidget) -> None:
        super().__init__(pane)
        self._pane = pane
        for widget in inner.findChildren(QWidget):
            if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            self._pane.ensureWidgetVisible(watched)
        return False


class MainWindow(QMainWindow):
    """Record controls, level, device and consult details on the left; chunks and transcript."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ambient Recorder")
        self.setWindowIcon(app_icon())
        self.chunk_model = ChunkTableModel(self)
        self.transcript_model = TranscriptModel()
        self.controls = RecordControls()
        self.level = LevelMeter()
        self.devices = DevicePicker()
        self.session = SessionPanel()
        self.chunks = ChunkView(self.chunk_model)
        self.transcript = TranscriptView(self.transcript_model)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.close_guard: Callable[[], bool] = lambda: True
        # Ctrl+S by habit: say the recording is kept as it goes (and how to stop), nothing else
        self.controls.save_pressed.connect(lambda hint: self.status.showMessage(hint, 10_000))

        left = QWidget()  # never narrower than its contents (a fixed minimum cut them off)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_group("Input", self.level, self.devices))
        left_layout.addWidget(_group("Consult", self.session))
        left_layout.addStretch(1)
        # in a short window (a laptop at 150 % scaling) the left pane scrolls, never cut off;
        # Record / Stop stay above it, never scrolled out of sight
        self.left_pane = QScrollArea()
        self.left_pane.setWidget(left)
        self.left_pane.setWidgetResizable(True)
        self.left_pane.setFrameShape(QFrame.Shape.NoFrame)
        self.left_pane.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.left_pane.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its fields
        self._scroll_to_focus = ScrollToFocus(self.left_pane, left)
        bar = self.left_pane.verticalScrollBar().sizeHint().width()
        self.left_pane.setMinimumWidth(left.minimumSizeHint().width() + bar)
        left_column = QWidget()
        column_layout = QVBoxLayout(left_column)
        column_layout.addWidget(self.controls)
        column_layout.addWidget(self.left_pane, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.chunks)
        right.addWidget(self.transcript)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left_column)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setChildrenCollapsible(False)
        self.setCentralWidget(main)

        menu = self.menuBar().addMenu("&File")
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setToolTip("Heidi account, network, chunk length, consent (Ctrl+,)")
        menu.addAction(self.settings_action)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        menu.addAction(self.quit_action)
        record_menu = self.menuBar().addMenu("&Recording")
        for action in (self.controls.record_action, self.controls.pause_action):
            record_menu.addAction(action)
        record_menu.addAction(self.controls.stop_action)
        self._keyboard_order()
        self._fit_screen(1100, 680)

    def _fit_screen(self, width: int, height: int) -> None:
        """Open at `width`×`height`, or smaller on a small screen (an 800×600 one, a laptop at
        large scaling): a window bigger than the screen hides Stop or the status line."""
        room = self.screen().availableGeometry()
        self.resize(
            max(min(width, room.width() - WINDOW_FRAME_PX), self.minimumSizeHint().width()),
            max(min(height, room.height() - WINDOW_FRAME_PX), self.minimumSizeHint().height()),
        )

    def _keyboard_order(self) -> None:
        """Tab goes the way a consult starts: patient, consent, language, Record, Stop; then
        the device, chunks and transcript. The patient field has the focus at start."""
        self.transcript.text.setTabChangesFocus(True)  # read-only: Tab must not get stuck
        order = (
            self.session.patient,
            self.session.consent,
            self.session.language,
            self.controls.main_button,
            self.controls.stop_button,
            self.devices.combo,
            self.devices.refresh,
            self.chunks.retry_button,
            self.chunks.table,
            self.transcript.copy_button,
            self.transcript.export_button,
            self.transcript.text,
        )
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)
        self.session.patient.setFocus()

    def show_closing(self, text: str) -> None:
        """The app is quitting and saves first: say so; nothing can be started or changed."""
        self.controls.set_closing(text)
        self.session.lock(True)
        self.devices.lock(True)
        self.settings_action.setEnabled(False)
        self.status.showMessage(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close only when the controller agrees (it may hide to the tray instead)."""
        if self.close_guard():
            event.accept()
        else:
            event.ignore()
