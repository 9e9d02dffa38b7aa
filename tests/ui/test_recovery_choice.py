"""The start-up offer with several unfinished recordings: the one shown is the newest ticked.

The core lists them oldest first; the window shows one recording, the first chosen. With
every row ticked (the default) a clinician whose consult was just interrupted saw the oldest
one, perhaps from last week, while the button said the ticked ones were shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from recorder.core import RecordingSummary as Summary
from recorder.states import RecordingState
from ui.recovery_dialog import RecoveryDialog

DAY = 86_400.0


def test_several_recordings_newest_first_and_the_newest_ticked_is_shown(qtbot: QtBot) -> None:
    start = 1.75e9
    as_the_core_lists = [  # oldest first
        Summary(f"rec-{n}", RecordingState.RECORDED, start + n * DAY, 60, n, 3000.0)
        for n in range(6)
    ] + [Summary("rec-just-now", RecordingState.INTERRUPTED, start + 9 * DAY, 12, 0, 600.0)]
    dialog = RecoveryDialog(as_the_core_lists)
    qtbot.addWidget(dialog)
    dialog.show()
    ids = dialog.chosen_ids()
    assert ids[0] == "rec-just-now", "the window shows the first chosen: the newest"
    assert ids == ["rec-just-now", *[f"rec-{n}" for n in reversed(range(6))]]
    assert "(interrupted)" in dialog.list.item(0).text()
    assert "newest" in dialog.upload_button.accessibleName()
    dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.chosen_ids()[0] == "rec-5"
