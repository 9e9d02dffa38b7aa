"""Backoff maths, Retry-After parsing and which failures are retried."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.heidi.errors import (
    AuthError,
    ConfigError,
    NetworkError,
    RateLimitedError,
    RejectedError,
    ServerDownError,
    TLSError,
)
from recorder.heidi.retry import MAX_RETRY_AFTER_S, Backoff, is_retryable, parse_retry_after


@settings(deadline=None)  # a loaded CI machine can stall any example past the 200 ms default
@given(st.integers(min_value=1, max_value=200))
def test_full_jitter_delay_stays_within_the_exponential_ceiling(attempt: int) -> None:
    backoff = Backoff(base_s=0.5, cap_s=60.0)
    ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
    delay = backoff.delay(attempt)
    assert 0.0 <= delay <= ceiling


def test_delays_are_jittered_not_fixed() -> None:
    backoff = Backoff(base_s=1.0, cap_s=60.0)
    samples = {round(backoff.delay(8), 6) for _ in range(50)}
    assert len(samples) > 10  # full jitter spreads retries of many clients


def test_retry_after_wins_when_it_asks_for_longer() -> None:
    backoff = Backoff(base_s=0.01, cap_s=0.05)
    assert backoff.delay(1, retry_after=7.0) == 7.0
    assert backoff.delay(1, retry_after=0.0) <= 0.05


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("0", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("-3", None),
        ("1.5", None),
        ("999999999", MAX_RETRY_AFTER_S),
    ],
)
def test_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (NetworkError("x"), True),
        (TLSError("x"), True),
        (ServerDownError("x", status=503), True),
        (RateLimitedError("x", status=429, retry_after=3), True),
        (RejectedError("x", status=400), False),
        (AuthError("x", status=401), False),
        (ConfigError("x"), False),
        (ValueError("x"), False),
    ],
)
def test_which_errors_are_retried(error: BaseException, retry: bool) -> None:
    assert is_retryable(error) is retry
