"""The growing transcript with visible gaps, plus Copy and Export (.txt).

Shows what TranscriptModel assembles; Export asks for a file name and hands the
writing to the controller (disk work stays off the GUI thread).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ui.spoken_label import SpokenLabel
from ui.text_patch import patch_between
from ui.transcript_model import TranscriptModel


class TranscriptView(QWidget):
    """Read-only transcript text with a status line and Copy / Export buttons."""

    export_requested = Signal(str)  # path chosen by the user

    def __init__(self, model: TranscriptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        # a caret for the keyboard too: a sentence can be selected without a mouse, and a
        # screen reader can read it line by line (read-only alone allowed the mouse only)
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.text.document().setUndoRedoEnabled(False)  # edits by refresh() only: no history
        self._shown = ""  # the text last put in the document (toPlainText() alters some)
        self.text.setAccessibleName("Transcript")
        self.text.setAccessibleDescription("The consult transcript, chunk by chunk")
        self.text.setPlaceholderText("The transcript appears here as the consult is recorded.")
        self.status = SpokenLabel("Transcript status")
        # on its own wrapping line: a long status must not widen the view and squeeze the
        # consult panel (it cut the consent box's words off)
        self.status.setWordWrap(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton)
        )
        self.copy_button.setToolTip("Copy the transcript to the clipboard (Ctrl+Shift+C)")
        self.copy_button.setShortcut("Ctrl+Shift+C")
        self.copy_button.setAccessibleName("Copy transcript")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the transcript as a text file (Ctrl+Shift+E)")
        self.export_button.setShortcut("Ctrl+Shift+E")
        self.export_button.setAccessibleName("Export transcript")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.export_button.clicked.connect(self._ask_export_path)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Transcript</b>"), 1)
        top.addWidget(self.copy_button)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.text)
        self.refresh()

    def refresh(self) -> None:
        """Re-render from the model, keeping the reader's scroll position unless at the end."""
        text = self.model.text()
        patch = patch_between(self._shown, text)
        if patch is not None:
            bar = self.text.verticalScrollBar()
            at_end = bar.value() >= bar.maximum() - 4
            # only the changed span is edited: the reader's selection and place stay put
            edit = QTextCursor(self.text.document())
            edit.setPosition(patch.start)
            edit.setPosition(patch.end, QTextCursor.MoveMode.KeepAnchor)
            edit.insertText(patch.text)
            self._shown = text
            if at_end:
                bar.setValue(bar.maximum())
        self.status.setText(self.status_text() if text else "")
        has_text = bool(text)
        self.copy_button.setEnabled(has_text)
        self.export_button.setEnabled(has_text)

    def status_text(self) -> str:
        """How far the transcript is, and whether audio is missing from it (gaps)."""
        missing = self.model.missing()
        if missing:
            words = f"{missing} chunk(s) still without text"
        elif self.model.final:
            words = "Final transcript — complete"
        else:
            words = "All chunks so far transcribed"
        gaps = len(self.model.gaps())
        if gaps:
            words += f"; {gaps} gap(s) with no audio, marked in the text"
        if self.model.input_lost():  # "all transcribed" alone would sound like all is well
            words = f"Microphone lost: nothing is being recorded until it is back. {words}"
        return words

    def copy_to_clipboard(self) -> None:
        """Put the transcript, gap markers included, on the clipboard."""
        QGuiApplication.clipboard().setText(self.model.text())
        self.status.setText("Copied to the clipboard")

    def _ask_export_path(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export transcript", "transcript.txt", "Text files (*.txt)"
        )
        if path:
            self.export_requested.emit(path if path.endswith(".txt") else f"{path}.txt")
