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


def _newest_first(summary: Any) -> float:
    created = getattr(summary, "created_at", None)
    if isinstance(created, dt.datetime):
        return -created.timestamp()
    return -float(created) if isinstance(created, int | float) else 0.0


class RecoveryDialog(QDialog):
    """Lists unfinished recordings newest first, all ticked; Show finishes the ticked ones
    first and puts the newest of them in the window (every upload goes on in the background
    whatever the choice)."""

    def __init__(self, summaries: Sequence[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished recordings")
        intro = QLabel(
            "These recordings from an earlier session were not fully uploaded. "
            "Their audio is safe on this computer and keeps uploading in the background "
            "either way. Finish the ticked ones first, and show the newest of them here "
            "to follow its chunks and transcript?"
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Unfinished recordings")
        # newest first: the consult just interrupted is the one the clinician is after, and
        # the window shows one recording, the first ticked (it showed the oldest of them)
        for summary in sorted(summaries, key=_newest_first):
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
        self.upload_button.setAccessibleName(
            "Finish the ticked recordings first and show the newest of them"
        )
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
        """The recording ids ticked for upload, newest first (the first is shown)."""
        ids = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return ids
