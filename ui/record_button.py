"""The big Record → Pause/Resume button, Stop, and the elapsed time.

Pure presentation: it shows what the session state allows and emits the
user's intent; the controller decides and calls the core.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStyle, QVBoxLayout, QWidget

from recorder.states import SessionState
from ui import status_style
from ui.models import format_duration
from ui.spoken_label import SpokenLabel
from ui.status_style import Tone

RECORD_KEYS = QKeySequence("Ctrl+R")
PAUSE_KEYS = QKeySequence("Ctrl+P")
# Not Ctrl+S: clinicians press it by habit to "save", and that must never end a consult.
# Ctrl+Shift+X is pressed on purpose only (and is not Ctrl+W/Q, Escape or Ctrl+Shift+S).
STOP_KEYS = QKeySequence("Ctrl+Shift+X")
SAVE_KEYS = QKeySequence("Ctrl+S")  # answered with a hint, never with Stop
SAVE_HINT = (
    "Nothing to save: the recording is kept safely on this computer as it goes. "
    "To end the consult, press Stop ({stop})."
)

_CAPTURING = (SessionState.RECORDING, SessionState.PAUSED)


def _keys(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


class RecordControls(QWidget):
    """Record / Pause / Resume / Stop and the elapsed time of the consult."""

    record_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    save_pressed = Signal(str)  # Ctrl+S out of habit: the hint to show (it never stops)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = SessionState.IDLE
        self._can_start = False
        self._why_not = ""
        self._problem = ""  # why the last Record did not start (shown until the next try)
        self._closing = ""  # the app is quitting and saving: what to say (all buttons off)
        self.main_button = QPushButton()
        self.main_button.setMinimumHeight(64)
        big = QFont(self.main_button.font())
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.main_button.setFont(big)
        self.main_button.clicked.connect(self._main_clicked)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setMinimumHeight(64)
        self.stop_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.stop_button.setToolTip(f"Stop the recording; uploads carry on ({_keys(STOP_KEYS)})")
        self.stop_button.setAccessibleName("Stop recording")
        self.stop_button.setAccessibleDescription("Ends the consult recording. No audio is lost.")
        self.stop_button.clicked.connect(self._stop)
        self.elapsed_label = SpokenLabel("Recorded time", format_duration(0))
        clock = QFont(self.elapsed_label.font())
        clock.setPointSizeF(clock.pointSizeF() * 2.0)
        self.elapsed_label.setFont(clock)
        self.elapsed_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint_label = SpokenLabel("Why recording cannot start")
        self.hint_label.setWordWrap(True)
        # its line stays reserved when hidden: ticking consent must not move the consent box
        # (and everything below it) from under the clinician's pointer
        policy = self.hint_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.hint_label.setSizePolicy(policy)

        buttons = QHBoxLayout()
        buttons.addWidget(self.main_button, 3)
        buttons.addWidget(self.stop_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.elapsed_label)
        layout.addWidget(self.hint_label)

        self.record_action = self._action("Record", RECORD_KEYS, self._record_key)
        self.pause_action = self._action("Pause or resume", PAUSE_KEYS, self._pause_key)
        self.stop_action = self._action("Stop", STOP_KEYS, self._stop)
        self.save_action = self._action("Save", SAVE_KEYS, self._save_key)
        self._render()

    def _action(self, text: str, keys: QKeySequence, slot: object) -> QAction:
        action = QAction(text, self)
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # --- inputs from the controller ---------------------------------------------------
    def set_state(self, state: SessionState) -> None:
        """Show the controls the session state allows."""
        self._state = state
        self._render()

    def set_can_start(self, can_start: bool, why_not: str = "") -> None:
        """Whether Record may be pressed now, and if not, why (shown under the button)."""
        self._can_start = can_start
        self._why_not = why_not
        self._render()

    def show_start_problem(self, message: str) -> None:
        """Record was pressed but recording did not start: say so where the clinician looks
        (the status bar alone was easy to miss, and talking on would record nothing)."""
        self._problem = message
        self._render()

    def set_closing(self, text: str) -> None:
        """The app is quitting: Record and Stop go off for good; `text` says it is saving."""
        self._closing = text
        self._render()

    def set_elapsed(self, seconds: float) -> None:
        """Recorded time so far (pauses excluded)."""
        self.elapsed_label.setText(format_duration(seconds))

    # --- rendering --------------------------------------------------------------------
    def _render(self) -> None:
        state = self._state
        pixmap = QStyle.StandardPixmap
        if self._closing:
            self._render_closing()
            return
        if state is SessionState.RECORDING:
            text, tip, icon = (
                "Pause",
                f"Pause the recording ({_keys(PAUSE_KEYS)})",
                pixmap.SP_MediaPause,
            )
            enabled = True
        elif state is SessionState.PAUSED:
            text, tip, icon = (
                "Resume",
                f"Resume recording ({_keys(PAUSE_KEYS)})",
                pixmap.SP_MediaPlay,
            )
            enabled = True
        elif state is SessionState.FINISHING:
            text, tip, icon = "Finishing…", "Sending the last chunks", pixmap.SP_BrowserReload
            enabled = False
        else:
            text, tip, icon = (
                "Record",
                f"Start recording ({_keys(RECORD_KEYS)})",
                pixmap.SP_MediaPlay,
            )
            enabled = self._can_start
            if not enabled and self._why_not:
                tip = f"{tip} — {self._why_not}"
        self.main_button.setText(text)
        self.main_button.setIcon(self.style().standardIcon(icon))
        self.main_button.setToolTip(tip)
        self.main_button.setEnabled(enabled)
        self.main_button.setAccessibleName(text)
        self.main_button.setAccessibleDescription(tip)
        self.stop_button.setEnabled(state in _CAPTURING)
        idle = state not in (*_CAPTURING, SessionState.FINISHING)
        if not idle:
            self._problem = ""
        if idle and self._problem:
            colour = status_style.text_colour(Tone.BAD)
            self.hint_label.setStyleSheet(f"color: {colour};" if colour else "")
            self.hint_label.setText(self._problem)
        else:
            self.hint_label.setStyleSheet("")
            self.hint_label.setText(self._why_not if idle and not self._can_start else "")
        self.hint_label.setVisible(bool(self.hint_label.text()))

    def _render_closing(self) -> None:
        self.main_button.setText("Saving…")
        self.main_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.main_button.setToolTip(self._closing)
        self.main_button.setEnabled(False)
        self.main_button.setAccessibleName("Saving")
        self.main_button.setAccessibleDescription(self._closing)
        self.stop_button.setEnabled(False)
        self.hint_label.setStyleSheet("")
        self.hint_label.setText(self._closing)
        self.hint_label.setVisible(True)

    # --- user intent ------------------------------------------------------------------
    def _main_clicked(self) -> None:
        if self._closing:
            return
        if self._state is SessionState.RECORDING:
            self.pause_clicked.emit()
        elif self._state is SessionState.PAUSED:
            self.resume_clicked.emit()
        elif self.main_button.isEnabled():
            self._record()

    def _record_key(self) -> None:
        if self._closing:
            return
        if self._state not in _CAPTURING and self.main_button.isEnabled():
            self._record()

    def _record(self) -> None:
        self._problem = ""  # a new try: the old reason no longer applies
        self._render()
        self.record_clicked.emit()

    def _pause_key(self) -> None:
        if self._state in _CAPTURING:
            self._main_clicked()

    def _save_key(self) -> None:
        self.save_pressed.emit(SAVE_HINT.format(stop=_keys(STOP_KEYS)))

    def _stop(self) -> None:
        if self._state in _CAPTURING and not self._closing:
            self.stop_clicked.emit()
