"""The one place core events become Qt signals.

The core calls `emit_event` from its worker threads. The event is handed to the
GUI thread through a queued connection and only there re-emitted as typed
signals, so every widget slot runs on the GUI thread no matter who emitted.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance, Slot

from recorder.events import (
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    ConnectionChanged,
    ElapsedChanged,
    ErrorOccurred,
    Event,
    LevelChanged,
    RecordingStateChanged,
    SessionStateChanged,
    TranscriptUpdated,
)


class EventBridge(QObject):
    """Turns core events (any thread) into Qt signals (GUI thread)."""

    any_event = Signal(object)  # every event, after its typed signal
    session_state = Signal(object)  # SessionStateChanged
    level = Signal(object)  # LevelChanged
    elapsed = Signal(object)  # ElapsedChanged
    capture_problem = Signal(object)  # CaptureProblem
    chunk_recorded = Signal(object)  # ChunkRecorded
    chunk_state = Signal(object)  # ChunkStateChanged
    transcript = Signal(object)  # TranscriptUpdated
    recording_state = Signal(object)  # RecordingStateChanged
    connection = Signal(object)  # ConnectionChanged
    error = Signal(object)  # ErrorOccurred

    _incoming = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Explicitly queued: even a same-thread emit is delivered from the event loop,
        # so a core callback never re-enters a widget mid-update.
        self._incoming.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._typed: dict[type, SignalInstance] = {
            SessionStateChanged: self.session_state,
            LevelChanged: self.level,
            ElapsedChanged: self.elapsed,
            CaptureProblem: self.capture_problem,
            ChunkRecorded: self.chunk_recorded,
            ChunkStateChanged: self.chunk_state,
            TranscriptUpdated: self.transcript,
            RecordingStateChanged: self.recording_state,
            ConnectionChanged: self.connection,
            ErrorOccurred: self.error,
        }

    def emit_event(self, event: Event) -> None:
        """The core's EventSink: safe to call from any thread, returns at once."""
        self._incoming.emit(event)

    @Slot(object)
    def _dispatch(self, event: object) -> None:
        signal = self._typed.get(type(event))
        if signal is not None:
            signal.emit(event)
        self.any_event.emit(event)
