"""The upload queue's rules: strict index order, backoff respected, finish only when complete."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.heidi.models import LiveChunk, LiveTranscript
from recorder.states import ChunkState, RecordingState, ServerStatus
from recorder.transcript import joined_text, merge_live
from recorder.upload.plan import Action, next_step


@dataclass(frozen=True)
class C:
    index: int
    state: ChunkState
    next_attempt_at: float | None = None


Q, UP, RT, RJ, ING = (
    ChunkState.QUEUED,
    ChunkState.UPLOADED,
    ChunkState.RETRYING,
    ChunkState.REJECTED,
    ChunkState.UPLOADING,
)
REC, DONE_REC = RecordingState.RECORDING, RecordingState.RECORDED


def test_lowest_index_goes_first_whatever_the_row_order() -> None:
    step = next_step(REC, [C(2, Q), C(0, UP), C(1, Q)], now=0)
    assert (step.action, step.index) == (Action.UPLOAD, 1)


def test_a_backing_off_chunk_holds_later_ones() -> None:
    step = next_step(REC, [C(0, RT, 100.0), C(1, Q)], now=50)
    assert (step.action, step.index, step.at) == (Action.WAIT, 0, 100.0)
    step = next_step(REC, [C(0, RT, 100.0), C(1, Q)], now=100)
    assert (step.action, step.index) == (Action.UPLOAD, 0)


def test_an_interrupted_upload_is_sent_again() -> None:
    assert next_step(DONE_REC, [C(0, ING)], now=0).action is Action.UPLOAD


def test_rejected_chunks_are_skipped_but_hold_back_finish() -> None:
    chunks = [C(0, UP), C(1, RJ), C(2, Q)]
    assert next_step(REC, chunks, now=0).index == 2
    settled = [C(0, UP), C(1, RJ), C(2, UP)]
    assert next_step(DONE_REC, settled, now=0).action is Action.BLOCKED
    assert next_step(DONE_REC, settled, now=0, skip_rejected=True).action is Action.FINISH


def test_finish_only_after_capture_ended() -> None:
    """A recording still RECORDING (e.g. a disk-full failure, journal not yet recovered) never
    finishes: the recovered tail would miss the transcript."""
    chunks = [C(0, UP), C(1, UP)]
    assert next_step(REC, chunks, now=0).action is Action.IDLE
    assert next_step(DONE_REC, chunks, now=0).action is Action.FINISH
    assert next_step(RecordingState.INTERRUPTED, chunks, now=0).action is Action.FINISH
    assert next_step(RecordingState.FINISHED, chunks, now=0).action is Action.FINAL
    assert next_step(RecordingState.DONE, chunks, now=0).action is Action.IDLE


def _chunk(cid: str, status: str, text: str) -> LiveChunk:
    return LiveChunk(cid, ServerStatus(status), text, 1.0, "LIVE")


def test_merge_orders_by_index_in_id_and_replaces_repeats() -> None:
    live = LiveTranscript(
        "s",
        "",
        "LIVE",
        (
            _chunk("rec-a-10", "READY", "ten"),
            _chunk("rec-a-2", "READY", "two"),
            _chunk("rec-a-2", "READY", "two again"),
            _chunk("rec-a-3", "PENDING", ""),
        ),
    )
    merged = merge_live(live, "rec-a")
    assert [c.index for c in merged] == [2, 3, 10]
    assert joined_text(merged) == "two again ten"


def test_merge_falls_back_to_list_order() -> None:
    live = LiveTranscript(
        "s", "", None, (_chunk("x", "READY", "first"), _chunk("y", "FAILED", "second"))
    )
    merged = merge_live(live, "rec")
    assert [(c.index, c.status) for c in merged] == [
        (0, ServerStatus.READY),
        (1, ServerStatus.FAILED),
    ]
    assert joined_text(merged) == "first"


def test_merge_uses_list_order_when_ids_are_not_index_shaped() -> None:
    live = LiveTranscript(
        "s",
        "",
        None,
        (
            _chunk("rec-1", "READY", "first"),  # looks like an index ...
            _chunk("3f2a9c1e-0b4d-4c4e-9a61-123456789012", "READY", "second"),  # ... a UUID
        ),
    )
    merged = merge_live(live, None)
    assert [c.index for c in merged] == [0, 1]
    assert joined_text(merged) == "first second"


chunk_lists = st.lists(
    st.tuples(
        st.sampled_from(list(ChunkState)),
        st.one_of(st.none(), st.floats(min_value=0, max_value=200)),
    ),
    max_size=8,
)


@settings(deadline=None)  # a loaded CI machine can stall any example past the 200 ms default
@given(st.sampled_from(list(RecordingState)), chunk_lists, st.floats(0, 200), st.booleans())
def test_plan_invariants(
    state: RecordingState,
    raw: list[tuple[ChunkState, float | None]],
    now: float,
    skip_rejected: bool,
) -> None:
    chunks = [C(i, s, at) for i, (s, at) in reversed(list(enumerate(raw)))]
    step = next_step(state, chunks, now, skip_rejected=skip_rejected)
    unsettled = [c.index for c in sorted(chunks, key=lambda c: c.index) if c.state not in (UP, RJ)]
    if step.action in (Action.UPLOAD, Action.WAIT):
        assert step.index == unsettled[0]  # only ever the lowest unsettled chunk
    if step.action is Action.WAIT:
        assert step.at is not None and step.at > now
    if step.action is Action.FINISH:
        assert state in (RecordingState.RECORDED, RecordingState.INTERRUPTED)
        assert not unsettled
        assert skip_rejected or all(c.state is UP for c in chunks)
    if state is RecordingState.RECORDING:
        assert step.action in (Action.UPLOAD, Action.WAIT, Action.IDLE)
