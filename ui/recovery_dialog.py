"""At start: offer to upload recordings that were interrupted or still have chunks queued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.models import format_duration


def describe(summary: Any) -> str:
    """One line per recording: when, how long, what is left, and why it is listed."""
    created = getattr(summary, "created_at", None)
    if isinstance(created, int | float):
        when = dt.datetime.fromtimestamp(created).strftime("%a %d %b %H:%M")
    elif isinstance(created, dt.datetime):
        when = created.strftime("%a %d %b %H:%M")
    else:
        when = str(created or "unknown time")
    total = int(getattr(summary, "chunks_total", 0))
    uploaded = int(getattr(summary, "chunks_uploaded", 0))
    state = str(getattr(summary, "state", ""))
    length = format_duration(float(getattr(summary, "duration_s", 0.0)))
    why = "interrupted" if state == "interrupted" else "not fully uploaded"
    return f"{when} — {length} — {uploaded} of {total} chunks uploaded ({why})"


class RecoveryDialog(QDialog):
    """Lists unfinished recordings, all ticked; Show puts the ticked ones in the window (their
    uploads go on in the background whatever the choice)."""

    def __init__(self, summaries: Sequence[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished recordings")
        intro = QLabel(
            "These recordings from an earlier session were not fully uploaded. "
            "Their audio is safe on this computer and keeps uploading in the background "
            "either way. Show the ticked ones here, to follow their chunks and transcript?"
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Unfinished recordings")
        for summary in summaries:
            item = QListWidgetItem(describe(summary))
            item.setData(Qt.ItemDataRole.UserRole, str(summary.recording_id))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        buttons = QDialogButtonBox()
        # The core uploads every unfinished recording by itself (nothing waits on this choice):
        # the dialog only decides what the window shows, so it must not offer to "wait".
        self.upload_button = buttons.addButton("Show them", QDialogButtonBox.ButtonRole.AcceptRole)
        self.later_button = buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        self.upload_button.setAccessibleName("Show the ticked recordings and finish them first")
        self.later_button.setAccessibleName("Close; they keep uploading in the background")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._fit_width()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def _fit_width(self) -> None:
        """Wide enough for each line whole (up to most of the screen): what is left to upload
        and why is the end of the line, the part a clipped list hid."""
        needed = self.list.sizeHintForColumn(0) + 2 * self.list.frameWidth() + 24
        screen = self.screen().availableGeometry().width() if self.screen() else 1280
        self.list.setMinimumWidth(min(needed, int(screen * 0.8)))

    def chosen_ids(self) -> list[str]:
        """The recording ids ticked for upload."""
        ids = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return ids
