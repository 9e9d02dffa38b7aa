"""Chunker: no sample lost or repeated, lengths within bounds, cuts in the quiet."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recorder.chunker import Chunker, validate_user_bounds

RATE = 1_000  # low rate keeps the property tests fast; the logic is rate-independent
MIN_S, MAX_S, WINDOW_S, HOP_S = 0.45, 0.6, 0.05, 0.01


def _feed(
    chunker: Chunker, signal: npt.NDArray[np.float32], blocks: list[int]
) -> list[npt.NDArray[np.float32]]:
    chunks: list[npt.NDArray[np.float32]] = []
    pos, i = 0, 0
    while pos < len(signal):
        size = blocks[i % len(blocks)]
        chunks += chunker.write(signal[pos : pos + size])
        pos += size
        i += 1
    last = chunker.flush()
    if last is not None:
        chunks.append(last)
    return chunks


@st.composite
def signals(draw: st.DrawFn) -> npt.NDArray[np.float32]:
    """Noise of random loudness with random silence gaps (and sometimes pure silence)."""
    length = draw(st.integers(0, 4_000))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    level = draw(st.sampled_from([0.0, 1e-4, 0.05, 0.5]))
    signal = (rng.standard_normal(length) * level).astype(np.float32)
    for _ in range(draw(st.integers(0, 6))):
        if length == 0:
            break
        start = draw(st.integers(0, length - 1))
        signal[start : start + draw(st.integers(1, 300))] = 0.0
    return signal


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signal=signals(),
    blocks=st.lists(st.integers(1, 1_500), min_size=1, max_size=8),
    silence_dbfs=st.sampled_from([None, -50.0, -20.0]),
)
def test_no_sample_lost_or_repeated_and_lengths_within_bounds(
    signal: npt.NDArray[np.float32], blocks: list[int], silence_dbfs: float | None
) -> None:
    chunker = Chunker(RATE, MIN_S, MAX_S, window_s=WINDOW_S, hop_s=HOP_S, silence_dbfs=silence_dbfs)
    chunks = _feed(chunker, signal, blocks)
    joined = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    assert np.array_equal(joined, signal)
    for chunk in chunks[:-1]:
        assert chunker.min_len <= len(chunk) <= chunker.max_len
    if chunks:
        assert 0 < len(chunks[-1]) <= chunker.max_len
    assert chunker.buffered == 0


@settings(max_examples=100, deadline=None)
@given(
    gap_start=st.integers(460, 520),
    gap_len=st.integers(60, 80),
    blocks=st.lists(st.integers(1, 700), min_size=1, max_size=5),
    seed=st.integers(0, 2**32 - 1),
    early=st.booleans(),
)
def test_cut_falls_inside_a_clear_silence_gap(
    gap_start: int, gap_len: int, blocks: list[int], seed: int, early: bool
) -> None:
    rng = np.random.default_rng(seed)
    signal = (rng.standard_normal(2_000) * 0.3).astype(np.float32)
    signal[gap_start : gap_start + gap_len] = rng.standard_normal(gap_len) * 1e-5
    chunker = Chunker(
        RATE, MIN_S, MAX_S, window_s=WINDOW_S, hop_s=HOP_S, silence_dbfs=-50.0 if early else None
    )
    chunks = _feed(chunker, signal, blocks)
    first_cut = len(chunks[0])
    assert gap_start < first_cut < gap_start + gap_len


def test_without_quiet_it_cuts_at_the_quietest_window_by_max() -> None:
    rng = np.random.default_rng(7)
    signal = (rng.standard_normal(3_000) * 0.5).astype(np.float32)
    signal[500:560] *= 0.1  # quieter, but far above the silence threshold
    chunker = Chunker(RATE, MIN_S, MAX_S, window_s=WINDOW_S, hop_s=HOP_S, silence_dbfs=-50.0)
    chunks = _feed(chunker, signal, [100])
    assert 500 < len(chunks[0]) < 560


def test_hard_cut_at_max_when_no_window_fits() -> None:
    chunker = Chunker(RATE, 0.5, 0.5, window_s=0.05)
    chunks = chunker.write(np.ones(1_200, dtype=np.float32))
    assert [len(c) for c in chunks] == [500, 500]
    assert chunker.buffered == 200


def test_realistic_rate_and_bounds() -> None:
    rate = 16_000
    rng = np.random.default_rng(3)
    signal = (rng.standard_normal(rate * 130) * 0.1).astype(np.float32)
    signal[rate * 50 : rate * 51] = 0.0
    chunker = Chunker(rate)
    chunks = _feed(chunker, signal, [1_600])
    assert 50 * rate < len(chunks[0]) < 51 * rate
    assert all(45 * rate <= len(c) <= 60 * rate for c in chunks[:-1])
    assert np.array_equal(np.concatenate(chunks), signal)


def test_flush_on_empty_returns_none_and_pending_copies() -> None:
    chunker = Chunker(RATE, MIN_S, MAX_S, window_s=WINDOW_S)
    assert chunker.flush() is None
    chunker.write(np.arange(10, dtype=np.float32))
    pending = chunker.pending()
    pending[:] = -1
    assert np.array_equal(chunker.pending(), np.arange(10, dtype=np.float32))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_rate": 0}, "sample_rate"),
        ({"min_s": 0.6, "max_s": 0.5}, "max_s"),
        ({"window_s": 1.0}, "window_s"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {"sample_rate": RATE, "min_s": MIN_S, "max_s": MAX_S, "window_s": 0.05}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Chunker(int(args.pop("sample_rate")), **args)


def test_user_bounds_must_stay_within_45_to_60_seconds() -> None:
    validate_user_bounds(45, 60)
    validate_user_bounds(50, 50)
    for low, high in [(44, 60), (45, 61), (55, 50)]:
        with pytest.raises(ValueError, match="chunk length"):
            validate_user_bounds(low, high)
