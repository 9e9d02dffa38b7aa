"""The chunk table: one row per chunk of the current recording, built from core events only.

Rows show the local upload state (recording, queued, uploading, "retrying in N s",
uploaded, rejected) and the server's transcription status with its source. A 1 s
timer refreshes the retry countdown; nothing here calls the core. While the microphone
is lost the live row says so, and a chunk recorded after a gap carries a warning icon
with "[no audio for N s: microphone lost]" as its tooltip.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from recorder.events import (
    AudioGap,
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    ElapsedChanged,
    RecordingStateChanged,
    SessionStateChanged,
    TranscriptUpdated,
)
from recorder.states import ChunkState, RecordingState, ServerStatus, SessionState
from ui import status_style
from ui.status_style import Tone

COLUMNS = ("Chunk", "Length", "Upload", "Transcription")
COL_INDEX, COL_DURATION, COL_LOCAL, COL_SERVER = range(4)
RETRYABLE_ROLE = Qt.ItemDataRole.UserRole + 1  # bool: the Retry action applies to this row
CHUNK_INDEX_ROLE = Qt.ItemDataRole.UserRole + 2  # int: the chunk's 0-based index

_IndexArg = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class ChunkRow:
    """What the table knows about one chunk; `local` None means it is still being recorded."""

    index: int
    duration_s: float
    local: ChunkState | None = ChunkState.QUEUED
    attempts: int = 0
    next_attempt_at: float | None = None
    error: str | None = None
    server: ServerStatus | None = None
    source: str = ""


def chunk_label(index: int) -> str:
    """Chunks are numbered from 1 for people; the API's index starts at 0."""
    return f"chunk {index + 1}"


def format_duration(seconds: float) -> str:
    """m:ss, the way a clinician reads a consult's length."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


INPUT_LOST_TEXT = "microphone lost — reconnecting…"


def local_text(row: ChunkRow, now: float, paused: bool = False, input_lost: bool = False) -> str:
    """The upload column's words, with a live countdown while retrying."""
    if row.local is None:
        if input_lost:
            return f"paused, {INPUT_LOST_TEXT}" if paused else INPUT_LOST_TEXT
        return "paused" if paused else "recording"
    if row.local is ChunkState.RETRYING:
        if row.next_attempt_at is None:
            return "retrying"
        wait = math.ceil(row.next_attempt_at - now)
        return f"retrying in {wait} s" if wait > 0 else "retrying now"
    return row.local.value


def local_tone(row: ChunkRow, input_lost: bool = False, paused: bool = False) -> Tone:
    """How the upload state should look (a paused live row is plain: nothing is recording)."""
    if row.local is None and input_lost:
        return Tone.WARN
    if row.local is None and paused:
        return Tone.NEUTRAL
    return {
        None: Tone.ACTIVE,
        ChunkState.QUEUED: Tone.NEUTRAL,
        ChunkState.UPLOADING: Tone.ACTIVE,
        ChunkState.RETRYING: Tone.WARN,
        ChunkState.UPLOADED: Tone.GOOD,
        ChunkState.REJECTED: Tone.BAD,
    }[row.local]


SERVER_WORDS = {  # the API's PENDING/READY/FAILED, in a clinician's words
    ServerStatus.PENDING: "transcribing…",
    ServerStatus.READY: "transcribed",
    ServerStatus.FAILED: "transcription failed",
}


def server_text(row: ChunkRow) -> str:
    """The transcription column's words (the server's status and source are in the tooltip)."""
    if row.server is None:
        return "—" if row.local is not ChunkState.UPLOADED else "awaiting server"
    return SERVER_WORDS[row.server]


def server_detail(row: ChunkRow) -> str | None:
    """The status as the server gave it, for practice IT: e.g. READY (source USER_UPLOADED)."""
    if row.server is None:
        return None
    return f"{row.server.value} (source {row.source})" if row.source else row.server.value


def server_tone(row: ChunkRow) -> Tone:
    """How the server status should look."""
    if row.server is None:
        return Tone.NEUTRAL
    return {
        ServerStatus.PENDING: Tone.ACTIVE,
        ServerStatus.READY: Tone.GOOD,
        ServerStatus.FAILED: Tone.BAD,
    }[row.server]


def is_retryable(row: ChunkRow) -> bool:
    """A user may retry a chunk the server refused or failed to transcribe."""
    return row.local is ChunkState.REJECTED or row.server is ServerStatus.FAILED


class ChunkTableModel(QAbstractTableModel):
    """Chunks of the recording on screen, in index order, plus the one being recorded."""

    def __init__(
        self, parent: QObject | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._recording_id: str | None = None
        self._rows: list[ChunkRow] = []  # committed chunks, sorted by index
        self._live: ChunkRow | None = None  # the chunk being recorded, if any
        self._paused = False
        self._input_lost = False  # the microphone is lost and being reopened
        self._gaps: dict[int, list[AudioGap]] = {}  # by the index of the chunk that follows
        self._elapsed_s = 0.0
        self._finished = False  # the recording is finished: Retry no longer applies
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh_countdowns)
        self._timer.start()

    # --- what the rest of the UI asks -------------------------------------------------
    @property
    def recording_id(self) -> str | None:
        """The recording whose chunks are shown."""
        return self._recording_id

    def rows(self) -> list[ChunkRow]:
        """Committed chunks, in index order (a copy)."""
        return list(self._rows)

    def row_at(self, row: int) -> ChunkRow | None:
        """The row as displayed (the live row comes last)."""
        shown = self._shown()
        return shown[row] if 0 <= row < len(shown) else None

    def show_recording(self, recording_id: str | None) -> None:
        """Switch to another recording; its rows fill in from the events that follow."""
        if recording_id == self._recording_id:
            return
        self.beginResetModel()
        self._recording_id = recording_id
        self._rows = []
        self._live = None
        self._paused = False
        self._input_lost = False
        self._gaps = {}
        self._elapsed_s = 0.0
        self._finished = False
        self.endResetModel()

    def gap_text(self, index: int) -> str:
        """What the gaps just before chunk `index` say ('' when there is none)."""
        return "\n".join(gap.marker() for gap in self._gaps.get(index, []))

    # --- events -----------------------------------------------------------------------
    def apply(self, event: object) -> None:
        """Update from any core event; events for other recordings are ignored."""
        if isinstance(event, SessionStateChanged):
            self._on_session(event)
        elif isinstance(event, ElapsedChanged) and event.recording_id == self._recording_id:
            self._elapsed_s = event.elapsed_s
            self._update_live()
        elif isinstance(event, ChunkRecorded) and event.recording_id == self._recording_id:
            self._upsert(event.index, duration_s=event.duration_s)
            self._update_live()
        elif isinstance(event, ChunkStateChanged) and event.recording_id == self._recording_id:
            changes: dict[str, Any] = {}
            resent = event.state is ChunkState.QUEUED
            if resent and self._server_of(event.index) is ServerStatus.FAILED:
                changes["server"] = None  # sent again (Retry): the server has yet to say
            self._upsert(
                event.index,
                local=event.state,
                attempts=event.attempts,
                next_attempt_at=event.next_attempt_at,
                error=event.error,
                **changes,
            )
        elif isinstance(event, RecordingStateChanged) and event.recording_id == self._recording_id:
            finished = event.state in (RecordingState.FINISHED, RecordingState.DONE)
            if finished != self._finished:  # Retry no longer applies (it could only fail)
                self._finished = finished
                self._changed_all()
        elif isinstance(event, TranscriptUpdated) and event.recording_id == self._recording_id:
            for chunk in event.chunks:
                self._upsert(chunk.index, server=chunk.status, source=chunk.source)
        elif isinstance(event, CaptureProblem) and event.kind in ("input_lost", "input_back"):
            self._input_lost = event.kind == "input_lost" and self._live is not None
            self._changed_live()
        elif isinstance(event, AudioGap) and event.recording_id == self._recording_id:
            kept = self._gaps.get(event.before_chunk, [])  # a gap reported again: replace it
            others = [g for g in kept if g.started_at != event.started_at]
            self._gaps[event.before_chunk] = [*others, event]
            self._changed_index(event.before_chunk)

    def _on_session(self, event: SessionStateChanged) -> None:
        if event.recording_id is not None and event.state in (
            SessionState.RECORDING,
            SessionState.PAUSED,
        ):
            self.show_recording(event.recording_id)
        if event.recording_id is not None and event.recording_id != self._recording_id:
            return
        capturing = event.state in (SessionState.RECORDING, SessionState.PAUSED)
        self._paused = event.state is SessionState.PAUSED
        self._input_lost = self._input_lost and capturing
        if capturing and self._live is None:
            self._live = ChunkRow(index=self._next_index(), duration_s=0.0, local=None)
            self._insert_live()
        elif not capturing and self._live is not None:
            self._remove_live()
        else:
            self._changed_live()

    # --- row bookkeeping ----------------------------------------------------------------
    def _shown(self) -> list[ChunkRow]:
        return [*self._rows, self._live] if self._live is not None else self._rows

    def _next_index(self) -> int:
        return self._rows[-1].index + 1 if self._rows else 0

    def _server_of(self, index: int) -> ServerStatus | None:
        return next((row.server for row in self._rows if row.index == index), None)

    def _upsert(self, index: int, **changes: Any) -> None:
        for pos, row in enumerate(self._rows):
            if row.index == index:
                self._rows[pos] = replace(row, **changes)
                self.dataChanged.emit(self.index(pos, 0), self.index(pos, len(COLUMNS) - 1))
                return
        pos = next((p for p, r in enumerate(self._rows) if r.index > index), len(self._rows))
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.insert(pos, replace(ChunkRow(index=index, duration_s=0.0), **changes))
        self.endInsertRows()

    def _update_live(self) -> None:
        if self._live is None:
            return
        recorded = sum(r.duration_s for r in self._rows)
        self._live = replace(
            self._live,
            index=max(self._live.index, self._next_index()),
            duration_s=max(0.0, self._elapsed_s - recorded),
        )
        self._changed_live()

    def _insert_live(self) -> None:
        pos = len(self._rows)
        self.beginInsertRows(QModelIndex(), pos, pos)
        self.endInsertRows()

    def _remove_live(self) -> None:
        pos = len(self._rows)
        self.beginRemoveRows(QModelIndex(), pos, pos)
        self._live = None
        self.endRemoveRows()

    def _changed_index(self, index: int) -> None:
        for pos, row in enumerate(self._shown()):
            if row.index == index:
                self.dataChanged.emit(self.index(pos, 0), self.index(pos, len(COLUMNS) - 1))

    def _changed_all(self) -> None:
        if self._shown():
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1)
            )

    def _changed_live(self) -> None:
        if self._live is not None:
            pos = len(self._rows)
            self.dataChanged.emit(self.index(pos, 0), self.index(pos, len(COLUMNS) - 1))

    def refresh_countdowns(self) -> None:
        """Repaint the upload column of retrying rows (the 1 s timer calls this)."""
        for pos, row in enumerate(self._rows):
            if row.local is ChunkState.RETRYING:
                cell = self.index(pos, COL_LOCAL)
                self.dataChanged.emit(cell, cell)

    # --- QAbstractTableModel ------------------------------------------------------------
    def rowCount(self, parent: _IndexArg = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown())

    def columnCount(self, parent: _IndexArg = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _IndexArg, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_INDEX:
                return self.gap_text(row.index) or None
            if column == COL_SERVER:
                return server_detail(row)
            return row.error if column == COL_LOCAL and row.error else None
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.DecorationRole):
            tone = self._tone(row, column)
            if tone is None or tone is Tone.NEUTRAL:
                return None
            if role == Qt.ItemDataRole.DecorationRole:
                return status_style.icon(tone)
            colour = status_style.tint(tone)
            return colour if colour is not None else None
        if role == RETRYABLE_ROLE:  # finished: the server takes no more audio for it
            return is_retryable(row) and not self._finished
        if role == CHUNK_INDEX_ROLE:
            return row.index
        return None

    def _text(self, row: ChunkRow, column: int) -> str:
        if column == COL_INDEX:
            return str(row.index + 1)
        if column == COL_DURATION:
            return format_duration(row.duration_s)
        if column == COL_LOCAL:
            return local_text(row, self._clock(), self._paused, self._is_lost(row))
        return server_text(row)

    def _is_lost(self, row: ChunkRow) -> bool:
        return self._input_lost and row is self._live

    def _tone(self, row: ChunkRow, column: int) -> Tone | None:
        if column == COL_INDEX:
            return Tone.WARN if row.index in self._gaps else None
        if column == COL_LOCAL:
            return local_tone(row, self._is_lost(row), self._paused)
        if column == COL_SERVER:
            return server_tone(row)
        return None
