"""The one span that differs between two texts, so a view can edit just that span.

Replacing a whole QPlainTextEdit document on every transcript update threw away the
reader's selection and moved the view (its scroll value means something else once the
new document is laid out); editing only what changed keeps both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    """Replace old[start:end] with `text`; positions in UTF-16 units, as Qt counts them."""

    start: int
    end: int
    text: str


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def patch_between(old: str, new: str) -> Patch | None:
    """The smallest single replacement that turns `old` into `new`; None when equal."""
    if old == new:
        return None
    shorter = min(len(old), len(new))
    prefix = 0
    while prefix < shorter and old[prefix] == new[prefix]:
        prefix += 1
    room = shorter - prefix  # the common end may not overlap the start
    suffix = 0
    while suffix < room and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    start = _utf16_len(old[:prefix])
    end = start + _utf16_len(old[prefix : len(old) - suffix])
    return Patch(start, end, new[prefix : len(new) - suffix])
