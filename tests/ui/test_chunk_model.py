"""The chunk table, fed real event objects through the bridge (from a worker thread)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from pytestqt.qtbot import QtBot

from recorder.events import (
    ChunkRecorded,
    ChunkStateChanged,
    ElapsedChanged,
    Event,
    RecordingStateChanged,
    SessionStateChanged,
    TranscriptChunk,
    TranscriptUpdated,
)
from recorder.states import ChunkState, RecordingState, ServerStatus, SessionState
from ui.bridge import EventBridge
from ui.models import (
    COL_DURATION,
    COL_INDEX,
    COL_LOCAL,
    COL_SERVER,
    RETRYABLE_ROLE,
    ChunkTableModel,
)

RID = "rec-1"


class Clock:
    """A settable clock for the retry countdown (the model takes any time source)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Fed = tuple[ChunkTableModel, EventBridge, Clock]


@pytest.fixture
def fed(qtbot: QtBot) -> Fed:
    clock = Clock(1_000_000.0)
    model = ChunkTableModel(clock=clock)
    bridge = EventBridge()
    bridge.any_event.connect(model.apply)
    return model, bridge, clock


def send(qtbot: QtBot, bridge: EventBridge, events: Sequence[Event]) -> None:
    """Emit from a worker thread, like the core does, and wait for delivery."""
    done: list[object] = []
    bridge.any_event.connect(done.append)

    def produce() -> None:
        for event in events:
            bridge.emit_event(event)

    worker = threading.Thread(target=produce)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(done) == len(events))
    bridge.any_event.disconnect(done.append)


def cell(
    model: ChunkTableModel, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole
) -> object:
    return model.data(model.index(row, column), role)


def test_recording_row_then_committed_chunks_with_upload_states(qtbot: QtBot, fed: Fed) -> None:
    model, bridge, _ = fed
    send(qtbot, bridge, [SessionStateChanged(SessionState.RECORDING, RID)])
    assert model.rowCount() == 1
    assert cell(model, 0, COL_LOCAL) == "recording"
    send(qtbot, bridge, [ElapsedChanged(RID, 30.0)])
    assert cell(model, 0, COL_DURATION) == "0:30"
    send(
        qtbot,
        bridge,
        [
            ChunkRecorded(RID, 0, 52.4, 40_000),
            ElapsedChanged(RID, 61.0),
            ChunkStateChanged(RID, 0, ChunkState.UPLOADING, attempts=1),
        ],
    )
    assert model.rowCount() == 2
    assert [cell(model, r, COL_INDEX) for r in range(2)] == ["1", "2"]
    assert cell(model, 0, COL_DURATION) == "0:52"
    assert cell(model, 0, COL_LOCAL) == "uploading"
    assert cell(model, 1, COL_LOCAL) == "recording"
    assert cell(model, 1, COL_DURATION) == "0:08"  # 61 s recorded minus the 52.4 s chunk
    decoration = Qt.ItemDataRole.DecorationRole
    assert cell(model, 1, COL_LOCAL, decoration) is not None  # the "active" icon
    send(qtbot, bridge, [SessionStateChanged(SessionState.PAUSED, RID)])
    assert cell(model, 1, COL_LOCAL) == "paused"
    assert cell(model, 1, COL_LOCAL, decoration) is None, "paused does not look active"
    send(qtbot, bridge, [SessionStateChanged(SessionState.RECORDING, RID)])
    assert cell(model, 1, COL_LOCAL, decoration) is not None
    send(qtbot, bridge, [SessionStateChanged(SessionState.FINISHING, RID)])
    assert model.rowCount() == 1  # the live row goes once capture ends


def test_retrying_counts_down_and_the_timer_repaints(qtbot: QtBot, fed: Fed) -> None:
    model, bridge, clock = fed
    model.show_recording(RID)
    send(
        qtbot,
        bridge,
        [
            ChunkRecorded(RID, 0, 50.0, 1),
            ChunkStateChanged(
                RID, 0, ChunkState.RETRYING, 2, clock.now + 7.2, "The server did not answer"
            ),
        ],
    )
    assert cell(model, 0, COL_LOCAL) == "retrying in 8 s"
    assert cell(model, 0, COL_LOCAL, Qt.ItemDataRole.ToolTipRole) == "The server did not answer"
    clock.now += 5
    with qtbot.waitSignal(model.dataChanged, timeout=10_000) as blocker:
        pass  # the 1 s timer announces the countdown cell
    assert blocker.args[0].column() == COL_LOCAL
    assert cell(model, 0, COL_LOCAL) == "retrying in 3 s"
    clock.now += 10
    assert cell(model, 0, COL_LOCAL) == "retrying now"


def test_server_status_source_colour_icon_and_retry(qtbot: QtBot, fed: Fed) -> None:
    model, bridge, _ = fed
    model.show_recording(RID)

    def tc(index: int, status: ServerStatus) -> TranscriptChunk:
        return TranscriptChunk(index, f"{RID}-{index}", status, "text", 50.0, "USER_UPLOADED")

    send(
        qtbot,
        bridge,
        [
            ChunkRecorded(RID, 0, 50.0, 1),
            ChunkRecorded(RID, 1, 50.0, 1),
            ChunkRecorded(RID, 2, 50.0, 1),
            ChunkStateChanged(RID, 0, ChunkState.UPLOADED),
            ChunkStateChanged(RID, 1, ChunkState.UPLOADED),
            ChunkStateChanged(RID, 2, ChunkState.REJECTED, error="Not audio"),
            TranscriptUpdated(
                RID, "s", (tc(0, ServerStatus.READY), tc(1, ServerStatus.FAILED)), "text"
            ),
        ],
    )
    assert cell(model, 0, COL_SERVER) == "transcribed"  # the API's words are for IT: tooltip
    assert cell(model, 1, COL_SERVER) == "transcription failed"
    tooltip = Qt.ItemDataRole.ToolTipRole
    assert cell(model, 0, COL_SERVER, tooltip) == "READY (source USER_UPLOADED)"
    assert cell(model, 1, COL_SERVER, tooltip) == "FAILED (source USER_UPLOADED)"
    assert cell(model, 2, COL_SERVER) == "—"
    assert cell(model, 2, COL_LOCAL) == "rejected"
    assert [cell(model, r, 0, RETRYABLE_ROLE) for r in range(3)] == [False, True, True]
    # finished (the user let the rejected one go): the server takes no more audio for it, so
    # Retry is not offered (it could only fail with "already finished")
    send(qtbot, bridge, [RecordingStateChanged(RID, RecordingState.FINISHED)])
    assert [cell(model, r, 0, RETRYABLE_ROLE) for r in range(3)] == [False, False, False]
    for row in range(3):  # never colour alone: every state cell has text and an icon too
        for column in (COL_LOCAL, COL_SERVER):
            icon = cell(model, row, column, Qt.ItemDataRole.DecorationRole)
            if cell(model, row, column) not in ("—", "queued"):
                assert isinstance(icon, QIcon) and not icon.isNull()
    ready = cell(model, 0, COL_SERVER, Qt.ItemDataRole.BackgroundRole)
    failed = cell(model, 1, COL_SERVER, Qt.ItemDataRole.BackgroundRole)
    assert isinstance(ready, QColor) and isinstance(failed, QColor) and ready != failed


def test_out_of_order_chunks_are_sorted_and_other_recordings_ignored(
    qtbot: QtBot, fed: Fed
) -> None:
    model, bridge, _ = fed
    model.show_recording(RID)
    send(
        qtbot,
        bridge,
        [
            ChunkStateChanged(RID, 2, ChunkState.QUEUED),
            ChunkRecorded(RID, 0, 45.0, 1),
            ChunkRecorded("other", 5, 45.0, 1),
            ChunkRecorded(RID, 1, 45.0, 1),
        ],
    )
    assert [cell(model, r, COL_INDEX) for r in range(model.rowCount())] == ["1", "2", "3"]


def test_a_new_recording_clears_the_table(qtbot: QtBot, fed: Fed) -> None:
    model, bridge, _ = fed
    send(
        qtbot,
        bridge,
        [SessionStateChanged(SessionState.RECORDING, RID), ChunkRecorded(RID, 0, 50, 1)],
    )
    assert model.rowCount() == 2
    send(qtbot, bridge, [SessionStateChanged(SessionState.RECORDING, "rec-2")])
    assert model.recording_id == "rec-2"
    assert model.rowCount() == 1 and cell(model, 0, COL_INDEX) == "1"
