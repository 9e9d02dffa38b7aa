"""The CLI's event lines: a warning is said as a warning and does not count as an error."""

from __future__ import annotations

import io

from recorder.commands.printer import EventPrinter
from recorder.events import ErrorOccurred


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
