"""Reading the transcript of a long consult while it grows: the view stays where the reader is.

60+ chunks (an hour), the reader scrolled back to an earlier chunk or selecting a sentence to
copy; new chunks and their text arrive every few seconds. Before, each update replaced the
whole document: the selection vanished and the view jumped (the kept scroll value meant other
lines once the new document was laid out).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from recorder.events import ChunkRecorded, TranscriptChunk, TranscriptUpdated
from recorder.states import ServerStatus
from ui.text_patch import patch_between
from ui.transcript_model import TranscriptModel
from ui.transcript_view import TranscriptView

CHUNKS = 64


def words(index: int) -> str:
    return f"Chunk {index} says " + " ".join(f"word{index}_{k}" for k in range(50)) + "."


def update(model: TranscriptModel, view: TranscriptView, ready: int, total: int) -> None:
    """`total` chunks recorded, the first `ready` of them transcribed, as the core reports."""
    for index in range(total):
        model.apply(ChunkRecorded("rec", index, 50.0, 1000))
    chunks = tuple(
        TranscriptChunk(
            i,
            f"c{i}",
            ServerStatus.READY if i < ready else ServerStatus.PENDING,
            words(i) if i < ready else "",
            50.0,
            "live",
        )
        for i in range(total)
    )
    model.apply(TranscriptUpdated("rec", "sess", chunks, ""))
    view.refresh()


def long_transcript(qtbot: QtBot) -> tuple[TranscriptModel, TranscriptView]:
    model = TranscriptModel()
    model.show_recording("rec")
    view = TranscriptView(model)
    qtbot.addWidget(view)
    view.resize(480, 360)
    view.show()
    qtbot.waitExposed(view)
    update(model, view, CHUNKS - 2, CHUNKS)
    return model, view


def top_line(view: TranscriptView) -> tuple[int, int, str]:
    """The block, place in it, and text at the top of the view: what the reader sees first."""
    cursor = view.text.cursorForPosition(QPoint(4, 4))
    return cursor.blockNumber(), cursor.positionInBlock(), cursor.block().text()


def test_an_update_keeps_the_readers_place_and_selection(qtbot: QtBot) -> None:
    model, view = long_transcript(qtbot)
    bar = view.text.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0, "a long transcript opens at its newest text"
    bar.setValue(bar.maximum() // 3)  # the clinician scrolls back to an earlier chunk
    reading = top_line(view)
    assert reading[2], "the top line holds transcript text"
    selected = view.text.cursorForPosition(view.text.viewport().rect().center())
    selected.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
    view.text.setTextCursor(selected)
    sentence = view.text.textCursor().selectedText()
    assert sentence

    update(model, view, CHUNKS, CHUNKS + 1)  # two chunks transcribed, one more recorded
    update(model, view, CHUNKS + 1, CHUNKS + 1)

    assert top_line(view) == reading, "the view moved while the reader was reading"
    assert view.text.textCursor().selectedText() == sentence, "the selection was lost"
    assert view.text.toPlainText() == model.text()


def test_at_the_end_the_view_follows_new_text(qtbot: QtBot) -> None:
    model, view = long_transcript(qtbot)
    bar = view.text.verticalScrollBar()
    before = bar.maximum()
    update(model, view, CHUNKS + 2, CHUNKS + 2)
    assert bar.maximum() > before and bar.value() == bar.maximum()
    assert view.text.toPlainText().endswith(words(CHUNKS + 1))


def test_the_patch_replaces_only_what_changed_in_qt_positions() -> None:
    assert patch_between("same", "same") is None
    patch = patch_between("a [chunk 2 — transcribing…] z", "a Hello there z")
    assert patch is not None
    assert (patch.start, patch.text) == (2, "Hello there")
    assert patch.end == len("a [chunk 2 — transcribing…]")
    # a character outside the BMP counts twice in Qt's UTF-16 positions
    patch = patch_between("🙂 ab", "🙂 aXb")
    assert patch is not None and (patch.start, patch.end, patch.text) == (4, 4, "X")
    patch = patch_between("aaa", "aaaa")  # the common end never overlaps the common start
    assert patch is not None and (patch.start, patch.end, patch.text) == (3, 3, "a")


def test_a_sentence_can_be_selected_with_the_keyboard(qtbot: QtBot) -> None:
    """Keyboard-only use and screen readers need a caret in the transcript; read-only alone
    let only the mouse select (Shift+arrows did nothing)."""
    from PySide6.QtCore import Qt

    model, view = long_transcript(qtbot)
    view.text.moveCursor(QTextCursor.MoveOperation.Start)
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier)
    assert view.text.textCursor().selectedText().startswith("Chunk 0 says word0_0")
    update(model, view, CHUNKS, CHUNKS)  # new text meanwhile keeps the selection
    assert view.text.textCursor().selectedText().startswith("Chunk 0 says word0_0")
