"""The chunk list of a long consult (60+ chunks): it follows the newest chunk, but not while
the user has scrolled up to look at an earlier one (e.g. to find the one to retry)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from recorder.events import ChunkRecorded
from ui.chunk_view import ChunkView
from ui.models import ChunkTableModel


def chunk_list(qtbot: QtBot, chunks: int) -> tuple[ChunkTableModel, ChunkView]:
    model = ChunkTableModel()
    model.show_recording("rec")
    view = ChunkView(model)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    for index in range(chunks):
        model.apply(ChunkRecorded("rec", index, 52.0, 400_000))
    return model, view


def test_the_newest_chunk_is_followed_only_from_the_end(qtbot: QtBot) -> None:
    model, view = chunk_list(qtbot, 64)
    bar = view.table.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum(), "the newest chunk in sight"

    bar.setValue(bar.maximum() // 4)  # the user scrolls up to an earlier chunk
    looking_at = view.table.rowAt(0)
    model.apply(ChunkRecorded("rec", 64, 52.0, 400_000))
    assert view.table.rowAt(0) == looking_at, "the list jumped to the newest chunk"

    bar.setValue(bar.maximum())  # back at the end: new chunks are followed again
    model.apply(ChunkRecorded("rec", 65, 52.0, 400_000))
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=30_000)
    last = view.table.rowAt(view.table.viewport().height() - 2)
    assert last == model.rowCount() - 1, "the newest chunk is in sight"


def test_tab_leaves_the_list_and_arrows_move_in_it(qtbot: QtBot) -> None:
    """A table's Tab walks its cells: keyboard users were held in the list (4 per chunk)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.chunk_model.show_recording("rec")
    for index in range(64):
        window.chunk_model.apply(ChunkRecorded("rec", index, 52.0, 400_000))
    table = window.chunks.table
    window.activateWindow()
    table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table, timeout=30_000)
    table.selectRow(10)
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 11
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not table, "Tab stayed in the chunk list"
