"""The bookkeeping behind capture losses, on known inputs (no audio device needed).

TimingLossDetector gets callback timelines shaped like the ones measured through PulseAudio
(test_capture_overflow.py): steady, jittery, drifting, a stall without loss, a stall whose
backlog is followed by a cut. RingBuffer.take_drops gets real writes into a real ring.
"""

from __future__ import annotations

import numpy as np
import pytest

from recorder.audio.losses import INPUT_OVERFLOW, INPUT_TIMING, AudioLoss, TimingLossDetector
from recorder.audio.ring import DROP_JOURNAL_SLOTS, RingBuffer

RATE = 16_000
BLOCK = 800  # 50 ms
T0 = 1_000.0


def _run(detector: TimingLossDetector, calls: list[tuple[int, float, float]]) -> list[AudioLoss]:
    """Feed (frames seen, ADC time, call time) per callback; collect what is reported."""
    found = [detector.feed(seen, seen, adc, False, now) for seen, adc, now in calls]
    found.append(detector.finish())
    return [loss for loss in found if loss is not None]


def _steady(
    blocks: int, jitter_s: float = 0.0, drift: float = 0.0, seed: int = 0
) -> list[tuple[int, float, float]]:
    rng = np.random.default_rng(seed)
    calls = []
    for i in range(blocks):
        seen = i * BLOCK
        adc = T0 + seen / RATE * (1 + drift)
        calls.append((seen, adc + rng.uniform(-jitter_s, jitter_s), adc + 0.06))
    return calls


def _stall(
    stall_s: float, backlog_s: float, lost_s: float, blocks_after: int = 100
) -> list[tuple[int, float, float]]:
    """2 s steady, then no callback for `stall_s`, the backlog at once, a cut, steady again.

    As measured: the backlog's ADC times are ~85 ms off, and after the cut the ADC time
    settles onto the truth over ~1.5 s instead of jumping.
    """
    calls = _steady(40)
    seen = 40 * BLOCK
    resume = T0 + 2.0 + stall_s
    for i in range(round(backlog_s * RATE / BLOCK)):  # the backlog: all at once
        calls.append((seen, T0 + seen / RATE + 0.085, resume + 0.001 * i))
        seen += BLOCK
    paced_from = resume + 0.05
    for i in range(blocks_after):  # after the cut: paced, ADC time settling over 1.5 s
        true_adc = T0 + seen / RATE + lost_s
        settled = min(1.0, (i + 1) * BLOCK / RATE / 1.5)
        adc = T0 + seen / RATE + 0.085 + (lost_s - 0.085) * settled
        calls.append((seen, adc if i < 30 else true_adc, paced_from + i * BLOCK / RATE))
        seen += BLOCK
    return calls


def test_a_steady_jittery_or_drifting_clock_is_no_loss() -> None:
    assert _run(TimingLossDetector(RATE), _steady(1200)) == []
    assert _run(TimingLossDetector(RATE), _steady(1200, jitter_s=0.03, seed=1)) == []
    # 1000 ppm is ten times a poor sound card's drift: a minute of it is still no loss
    assert _run(TimingLossDetector(RATE), _steady(1200, drift=0.001)) == []


def test_a_latency_estimate_that_jumps_while_callbacks_stay_paced_is_no_loss() -> None:
    # Measured: a null sink waking from idle moved the ADC clock 214 ms in four callbacks.
    calls = _steady(200)
    jumped = [
        (seen, adc + min(max(i - 20, 0), 4) * 0.0535, now)
        for i, (seen, adc, now) in enumerate(calls)
    ]
    assert _run(TimingLossDetector(RATE), jumped) == []


def test_a_stall_whose_backlog_arrives_complete_is_no_loss() -> None:
    calls = _stall(stall_s=1.5, backlog_s=1.5, lost_s=0.0)
    assert _run(TimingLossDetector(RATE), calls) == []


def test_a_cut_after_the_backlog_is_measured_and_placed_where_pacing_resumes() -> None:
    calls = _stall(stall_s=4.0, backlog_s=2.4, lost_s=1.6)
    [loss] = _run(TimingLossDetector(RATE), calls)
    assert loss.cause == INPUT_TIMING
    assert loss.lost_s == pytest.approx(1.6, abs=0.02)
    cut_at = 2.0 + 2.4  # 2 s before the stall, then the backlog
    assert cut_at - 0.1 <= loss.at_s <= cut_at


def test_a_loss_still_settling_when_the_stream_ends_is_reported_as_far_as_known() -> None:
    calls = _stall(stall_s=4.0, backlog_s=2.4, lost_s=1.6, blocks_after=12)
    [loss] = _run(TimingLossDetector(RATE), calls)
    assert 0.08 < loss.lost_s <= 1.6


def test_flagged_overflows_are_losses_even_without_timestamps() -> None:
    detector = TimingLossDetector(RATE)
    assert detector.feed(0, 0, 0.0, False) is None
    assert detector.feed(800, 800, 0.0, True) == AudioLoss(0.05, 0.0, INPUT_OVERFLOW)


def test_a_flagged_overflow_with_a_clock_jump_is_measured() -> None:
    calls = _steady(40)
    detector = TimingLossDetector(RATE)
    found = [detector.feed(seen, seen, adc, False, now) for seen, adc, now in calls]
    seen = 40 * BLOCK
    gap = 0.3  # ALSA restarts the device after an overrun: 300 ms never recorded
    for i in range(40):
        adc = T0 + seen / RATE + gap
        found.append(detector.feed(seen, seen, adc, i == 0, adc + 0.06))
        seen += BLOCK
    [loss] = [loss for loss in found if loss is not None]
    assert loss.cause == INPUT_OVERFLOW
    assert loss.lost_s == pytest.approx(gap, abs=0.01)
    assert loss.at_s == pytest.approx(2.0)


def test_ring_drops_are_merged_per_position_and_survive_a_lapped_journal() -> None:
    ring = RingBuffer(1000, 1)
    block = np.ones((400, 1), dtype=np.float32)
    for _ in range(4):  # 1000 kept, then 200 + 400 dropped at position 1000
        ring.write(block)
    assert ring.take_drops() == [(1000, 600)]
    assert ring.take_drops() == []
    ring.read(500)
    for _ in range(DROP_JOURNAL_SLOTS + 10):  # the journal laps: every frame still counted
        ring.write(block)
    drops = ring.take_drops()
    assert sum(count for _, count in drops) == ring.dropped_frames - 600
    assert [position for position, _ in drops] == [1500]
