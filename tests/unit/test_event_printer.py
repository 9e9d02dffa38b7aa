"""The CLI's event lines: a warning is said as a warning and does not count as an error."""

from __future__ import annotations

import io

from recorder.commands.printer import EventPrinter
from recorder.events import ChunkStateChanged, ErrorOccurred
from recorder.states import ChunkState


def test_a_warning_is_printed_as_a_warning_and_is_not_an_error() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = EventPrinter(out, err)
    printer(ErrorOccurred("the key is in a file", where="spool", severity="warning"))
    printer(ErrorOccurred("the disk is full", where="spool"))
    assert err.getvalue().splitlines() == [
        "warning: the key is in a file",
        "error: the disk is full",
    ]
    assert out.getvalue() == ""
    assert printer.errors == ["the disk is full"]


def test_a_rejected_chunk_is_one_state_line_and_its_reason_is_left_to_the_error_line() -> None:
    """`record` and `resume` end with one `error:` line giving each rejected chunk's reason
    (Uplink.finish): the uploader's own event must not print the same reason again."""
    out, err = io.StringIO(), io.StringIO()
    printer = EventPrinter(out, err)
    reason = "Chunk 1 of recording 'r1': cannot read /data/spool/r1/001.ogg.enc"
    printer(ChunkStateChanged("r1", 1, ChunkState.REJECTED, attempts=1, error=reason))
    printer(
        ErrorOccurred(
            f"Chunk 1 cannot be uploaded; its audio is kept. {reason}",
            where="upload",
            extra={"recording_id": "r1", "index": "1"},
        )
    )
    printer(ChunkStateChanged("r1", 2, ChunkState.RETRYING, attempts=2, error="timed out"))
    assert out.getvalue().splitlines() == [
        "chunk 1: rejected (audio kept; the error line says why)",
        "chunk 2: retrying (attempt 2: timed out)",
    ]
    assert err.getvalue() == ""
