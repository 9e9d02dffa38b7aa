"""The SPSC ring buffer: order, wrap-around, and overruns counted (pure numpy, no device)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.audio.ring import RingBuffer


def _frames(start: int, count: int, channels: int = 1) -> np.ndarray:
    values = np.arange(start, start + count, dtype=np.float32)
    return np.repeat(values[:, None], channels, axis=1)


def test_reads_return_frames_in_order_across_the_wrap() -> None:
    ring = RingBuffer(10, 2)
    assert ring.write(_frames(0, 7, 2)) == 7
    assert ring.read(5)[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert ring.write(_frames(7, 8, 2)) == 8  # wraps around the end
    out = ring.read()
    assert out.shape == (10, 2)
    assert out[:, 0].tolist() == list(range(5, 15))
    assert out[:, 1].tolist() == list(range(5, 15))
    assert ring.available() == 0 and ring.read().shape == (0, 2)


def test_an_overrun_keeps_the_oldest_frames_and_counts_the_dropped_ones() -> None:
    ring = RingBuffer(8, 1)
    assert ring.write(_frames(0, 5)) == 5
    assert ring.write(_frames(5, 6)) == 3  # only 3 fit
    assert (ring.dropped_frames, ring.overruns) == (3, 1)
    assert ring.write(_frames(11, 4)) == 0  # full: all dropped, still counted
    assert (ring.dropped_frames, ring.overruns) == (7, 2)
    assert ring.read()[:, 0].tolist() == list(range(8))
    assert ring.total_written == 8
    assert ring.free() == 8


def test_a_block_larger_than_the_whole_ring() -> None:
    ring = RingBuffer(4, 1)
    assert ring.write(_frames(0, 10)) == 4
    assert ring.dropped_frames == 6
    assert ring.read()[:, 0].tolist() == [0, 1, 2, 3]


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0, 1)
    with pytest.raises(ValueError):
        RingBuffer(16, 0)


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 64),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 80)), max_size=40),
)
def test_behaves_like_a_bounded_queue(capacity: int, ops: list[tuple[bool, int]]) -> None:
    ring = RingBuffer(capacity, 1)
    model: list[float] = []
    dropped = 0
    counter = 0
    for is_write, n in ops:
        if is_write:
            kept = ring.write(_frames(counter, n))
            fits = min(n, capacity - len(model))
            assert kept == fits
            model += [float(v) for v in range(counter, counter + fits)]
            dropped += n - fits
            counter += n
        else:
            got = ring.read(n)[:, 0].tolist()
            assert got == model[:n]
            model = model[n:]
    assert ring.available() == len(model)
    assert ring.dropped_frames == dropped
    assert ring.read()[:, 0].tolist() == model


def test_one_producer_one_consumer_threads_lose_and_repeat_nothing() -> None:
    ring = RingBuffer(1000, 1)
    total = 60_000
    received: list[np.ndarray] = []

    def produce() -> None:
        sent = 0
        while sent < total:
            block = _frames(sent, min(97, total - sent))
            if ring.free() >= len(block):
                ring.write(block)
                sent += len(block)
            else:
                time.sleep(0.0001)

    producer = threading.Thread(target=produce)
    producer.start()
    got = 0
    while got < total:
        block = ring.read()
        received.append(block[:, 0])
        got += len(block)
        if not len(block):
            time.sleep(0.0001)
    producer.join()
    out = np.concatenate(received)
    assert ring.dropped_frames == 0
    assert np.array_equal(out, np.arange(total, dtype=np.float32))
