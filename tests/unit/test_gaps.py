"""Gaps kept beside a recording: audio dropped inside a chunk, old files, transcript order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recorder.audio.losses import INPUT_TIMING, RING_FULL
from recorder.dropped_audio import DeliveryMap, loss_reason, place_in_chunks
from recorder.events import INPUT_LOST, AudioGap
from recorder.gaps import gaps_path, read_gaps, save_gap, text_with_gaps
from recorder.spool import Spool

RID = "rec-1"
RATE = 16_000


def _dropped(before: int, within: int | None, at_s: float, lost_s: float) -> AudioGap:
    return AudioGap(
        RID, before, at_s, 1000.0 + at_s, lost_s, loss_reason(INPUT_TIMING), within, INPUT_TIMING
    )


def test_a_gap_file_written_before_dropped_audio_was_kept_still_reads(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path)
    path = gaps_path(spool, RID)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = {"recording_id": RID, "before_chunk": 2, "at_s": 90.0, "started_at": 5.0}
    path.write_text(json.dumps([{**old, "duration_s": 12.0, "reason": "microphone lost"}]))
    [gap] = read_gaps(spool, RID)
    assert gap.cause == INPUT_LOST and gap.within_chunk is None
    assert gap.marker() == "[no audio for 12 s: microphone lost]"
    spool.close()


def test_a_dropped_gap_round_trips_and_sorts_with_the_others(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path)
    dropped = _dropped(2, 1, 64.3, 1.7)
    lost = AudioGap(RID, 2, 100.0, 2000.0, 30.0, "microphone lost")
    gaps_path(spool, RID).parent.mkdir(parents=True)  # the recording's folder
    save_gap(spool, lost)
    save_gap(spool, dropped)
    assert read_gaps(spool, RID) == [dropped, lost]
    spool.close()


def test_the_marker_says_how_much_where_and_why() -> None:
    inside = _dropped(2, 1, 724.6, 1.74)
    assert inside.marker() == (
        "[about 1.7 s of audio missing in the passage above, at 12:04 into the recording: "
        "dropped because the computer was too busy]"
    )
    at_cut = AudioGap(RID, 3, 3725.0, 1.0, 0.02, loss_reason(RING_FULL), None, RING_FULL)
    assert at_cut.marker() == (
        "[under 0.1 s of audio missing at 1:02:05 into the recording: "
        "dropped because the recorder fell behind]"
    )


def test_a_dropped_gap_follows_the_paragraph_it_is_missing_from() -> None:
    texts = {0: "zero", 1: "one", 2: "two"}
    gap = _dropped(2, 1, 70.0, 0.5)
    assert text_with_gaps(texts, [gap]).split("\n\n") == ["zero", "one", gap.marker(), "two"]


def test_pause_and_duration_limit_leave_their_audio_out_of_the_map() -> None:
    delivery = DeliveryMap()
    delivery.add(1600, 0, 1600)  # recorded
    delivery.add(3200, 1600, 0)  # paused: dropped
    delivery.add(1600, 1600, 1600)  # recorded again
    delivery.add(1600, 3200, 800)  # the duration limit: half kept
    assert delivery.delivered == 8000
    assert delivery.place(800) == 800
    assert delivery.place(3000) == 1600  # in the pause: where recording resumed
    assert delivery.place(5600) == 2400
    assert delivery.place(7000) == 3800
    assert delivery.place(7600) == 4000  # past the limit: where the recording ended
    assert delivery.place(99_999) == 4000  # not delivered (yet): clamped to the end
    assert delivery.recorded_near(3200, 400) is False  # well inside the pause
    assert delivery.recorded_near(1800, 400) is True  # just after the pause began
    assert delivery.recorded_near(7800, 400) is False


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (0, (0, None)),  # the very start
        (5 * RATE, (1, 0)),  # inside chunk 0: its marker follows chunk 0
        (45 * RATE + 100, (1, None)),  # at the cut between chunks 0 and 1
        (50 * RATE, (2, 1)),
        (100 * RATE, (3, 2)),  # inside the chunk still being recorded
        (95 * RATE - 200, (2, None)),  # just before the chunk in progress began
    ],
)
def test_a_place_is_inside_a_chunk_or_at_a_cut(
    frame: int, expected: tuple[int, int | None]
) -> None:
    assert place_in_chunks(frame, [0, 45 * RATE, 95 * RATE], RATE) == expected
