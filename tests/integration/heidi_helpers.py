"""Shared helpers of the upload / Heidi client tests: real audio, real spool, a real client."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from recorder.encoder import encode_ogg
from recorder.heidi.client import HeidiClient, Timeouts
from recorder.spool import Spool
from recorder.states import RecordingState

REPO = Path(__file__).resolve().parents[2]
CONSULT = REPO / "samples" / "consult.ogg"
EMAIL = "clinician@example.org"
USER_ID = "u-1"


@functools.cache
def consult_pcm() -> tuple[npt.NDArray[np.float32], int]:
    """samples/consult.ogg as float32 mono PCM and its rate (16 kHz)."""
    pcm, rate = sf.read(CONSULT, dtype="float32")
    return np.ascontiguousarray(pcm), int(rate)


def consult_ogg(start_s: float, end_s: float) -> bytes:
    """A stretch of the consult encoded as an OGG chunk (as the encoder makes them)."""
    pcm, rate = consult_pcm()
    return encode_ogg(pcm[int(start_s * rate) : int(end_s * rate)], rate)


def make_client(base_url: str, api_key: str, **kw: Any) -> HeidiClient:
    kw.setdefault("timeouts", Timeouts(connect=3, read=20, write=20, pool=5, slow_read=120))
    return HeidiClient(base_url, api_key, email=EMAIL, user_id=USER_ID, **kw)


def client_factory(base_url: str, api_key: str, **kw: Any) -> Callable[[], HeidiClient]:
    return lambda: make_client(base_url, api_key, **kw)


def record_consult(
    spool: Spool,
    seconds: float,
    *,
    chunk_s: float = 8.0,
    start_s: float = 0.0,
    state: RecordingState = RecordingState.RECORDED,
    meta: dict[str, Any] | None = None,
) -> str:
    """Write `seconds` of the consult through a real RecordingWriter; chunks of ~chunk_s."""
    pcm, rate = consult_pcm()
    rec = spool.create_recording(
        sample_rate=rate,
        meta=meta or {"consent_obtained": True, "language_code": "en"},
        chunk_min_s=chunk_s * 0.75,
        chunk_max_s=chunk_s,
    )
    writer = spool.writer(rec.recording_id)
    piece = pcm[int(start_s * rate) : int((start_s + seconds) * rate)]
    block = rate // 2
    for at in range(0, len(piece), block):
        writer.write(piece[at : at + block])
    writer.close(state=state)
    return rec.recording_id


def wait_for(check: Callable[[], bool], timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def words(text: str) -> list[str]:
    return [w.strip(".,?!").lower() for w in text.split() if w.strip(".,?!")]


class Events:
    """A thread-safe EventSink that keeps everything for assertions."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self.items: list[Any] = []

    def __call__(self, event: Any) -> None:
        with self._lock:
            self.items.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [e for e in self.items if isinstance(e, kind)]

    def final(self, recording_id: str) -> Any:
        from recorder.events import TranscriptUpdated

        finals = [
            e for e in self.of(TranscriptUpdated) if e.final and e.recording_id == recording_id
        ]
        assert finals, "no final transcript was emitted"
        return finals[-1]


def repeated_ngrams(text: str, n: int = 5) -> list[tuple[str, ...]]:
    """n-grams that occur more than once (the reference consult has none of 4 words or more)."""
    from collections import Counter

    tokens = words(text)
    counts = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return [gram for gram, count in counts.items() if count > 1]
