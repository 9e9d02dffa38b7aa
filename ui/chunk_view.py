"""The chunk list: a table over ChunkTableModel with a Retry action for refused or failed chunks."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.models import CHUNK_INDEX_ROLE, COL_LOCAL, COL_SERVER, RETRYABLE_ROLE, ChunkTableModel


class ChunkView(QWidget):
    """Chunks with upload and transcription status; emits retry_requested(recording, index)."""

    retry_requested = Signal(str, int)

    def __init__(self, model: ChunkTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setAccessibleName("Chunks")
        self.table.setAccessibleDescription(
            "Each recorded chunk, its upload and transcription status"
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # Tab leaves the list (arrows move in it): a table's Tab walked every cell, 4 per
        # chunk, so a keyboard user was held in an hour's list for 240+ presses
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_LOCAL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_SERVER, QHeaderView.ResizeMode.Stretch)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.retry_button = QPushButton("Retry chunk")
        self.retry_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.retry_button.setToolTip("Send the selected rejected or failed chunk again")
        self.retry_button.setAccessibleName("Retry selected chunk")
        self.retry_button.clicked.connect(self.retry_selected)
        title = QLabel("<b>Chunks</b>")
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.table.selectionModel().selectionChanged.connect(self._update_retry)
        model.dataChanged.connect(self._update_retry)
        model.modelReset.connect(self._update_retry)
        model.rowsAboutToBeInserted.connect(self._note_at_end)
        model.rowsInserted.connect(self._follow_new_row)
        self._was_at_end = True
        self._update_retry()

    def _selected(self) -> QModelIndex | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0] if rows else None

    def _update_retry(self) -> None:
        index = self._selected()
        self.retry_button.setEnabled(bool(index is not None and index.data(RETRYABLE_ROLE)))

    def _note_at_end(self) -> None:
        bar = self.table.verticalScrollBar()
        self._was_at_end = bar.value() >= bar.maximum()

    def _follow_new_row(self) -> None:
        """Show the newest chunk, unless the user is looking at another one: a row selected,
        or scrolled up (in an hour's 60+ chunks, to find the one to retry)."""
        if self.table.selectionModel().selectedRows() or not self._was_at_end:
            return
        self.table.scrollToBottom()

    def retry_selected(self) -> None:
        """Ask for the selected chunk to be sent again, if the action applies to it."""
        index = self._selected()
        if index is not None:
            self._retry(index)

    def _retry(self, index: QModelIndex) -> None:
        recording_id = self.model.recording_id
        if recording_id is not None and index.data(RETRYABLE_ROLE):
            self.retry_requested.emit(recording_id, int(index.data(CHUNK_INDEX_ROLE)))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid() or not index.data(RETRYABLE_ROLE):
            return
        menu = QMenu(self)
        action = menu.addAction("Retry this chunk")
        action.triggered.connect(lambda: self._retry(index))
        menu.popup(self.table.viewport().mapToGlobal(pos))
