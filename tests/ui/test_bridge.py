"""The bridge delivers core events, emitted from worker threads, on the GUI thread and in order."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from recorder.events import ChunkRecorded, ErrorOccurred, LevelChanged
from ui.bridge import EventBridge


def test_events_from_a_worker_thread_arrive_on_the_gui_thread_in_order(qtbot: QtBot) -> None:
    bridge = EventBridge()
    received: list[tuple[object, bool]] = []
    gui_thread = QThread.currentThread()
    bridge.any_event.connect(lambda e: received.append((e, QThread.currentThread() is gui_thread)))
    levels: list[object] = []
    bridge.level.connect(levels.append)
    sent: list[LevelChanged | ErrorOccurred] = [
        LevelChanged(peak=i / 100, rms_dbfs=-40.0, silent_for_s=0.0) for i in range(50)
    ]
    sent.append(ErrorOccurred(message="x"))

    def produce() -> None:
        for event in sent:
            bridge.emit_event(event)

    worker = threading.Thread(target=produce)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(received) == len(sent))
    assert [event for event, _ in received] == sent
    assert all(on_gui for _, on_gui in received)
    assert levels == sent[:-1]


def test_typed_signal_fires_only_for_its_event_type(qtbot: QtBot) -> None:
    bridge = EventBridge()
    chunks: list[object] = []
    errors: list[object] = []
    bridge.chunk_recorded.connect(chunks.append)
    bridge.error.connect(errors.append)
    chunk = ChunkRecorded(recording_id="r", index=0, duration_s=50.0, size_bytes=1000)
    with qtbot.waitSignal(bridge.chunk_recorded):
        bridge.emit_event(chunk)
    assert chunks == [chunk]
    assert errors == []


def test_emit_returns_before_delivery_even_on_the_gui_thread(qtbot: QtBot) -> None:
    """Queued even when emitted on the GUI thread, so a core callback never re-enters a widget."""
    bridge = EventBridge()
    received: list[object] = []
    bridge.any_event.connect(received.append)
    bridge.emit_event(ErrorOccurred(message="later"))
    assert received == []
    qtbot.waitUntil(lambda: len(received) == 1)
