"""When to try again: which failures are worth retrying and how long to wait.

Exponential backoff with full jitter (delay uniform in [0, min(cap, base*2^n)]),
computed by tenacity's `wait_random_exponential`; a server's Retry-After wins
when it asks for longer. The schedule itself is persisted by the uploader.
"""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass

from tenacity import RetryCallState, wait_random_exponential

from recorder.heidi.errors import HeidiError

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 3600.0  # a server asking for more than an hour is not taken at its word


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent/garbage."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    delta = moment.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(delta):
        return None
    return min(max(0.0, delta), MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff: attempt n waits uniform(0, min(cap, base * 2**n))."""

    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts failures so far, from 1)."""
        waiter = wait_random_exponential(multiplier=self.base_s, max=self.cap_s)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = max(1, attempt)
        jittered = float(waiter(state))
        if retry_after is not None:
            return max(jittered, retry_after)
        return jittered


def is_retryable(error: BaseException) -> bool:
    """Network trouble, timeouts, 408/425/429/5xx: yes. Other 4xx, auth, bad settings: no."""
    return isinstance(error, HeidiError) and error.retryable
