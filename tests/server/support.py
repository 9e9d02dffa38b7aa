"""Helpers for the server tests and benchmark: audio chunks, API calls, word error rate."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jiwer
import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSULT_OGG = REPO_ROOT / "samples" / "consult.ogg"
CONSULT_TXT = REPO_ROOT / "samples" / "consult.txt"
RATE = 16000
BLOCK = 32768  # libsndfile's Vorbis encoder crashes on very large single writes


def read_consult() -> np.ndarray:
    audio, rate = sf.read(CONSULT_OGG, dtype="float32", always_2d=False)
    assert rate == RATE and audio.ndim == 1
    return audio


def write_ogg(path: Path, samples: np.ndarray, fmt: str = "OGG", subtype: str = "VORBIS") -> Path:
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, format=fmt, subtype=subtype) as out:
        for start in range(0, len(samples), BLOCK):
            out.write(samples[start : start + BLOCK])
    return path


def quiet_cuts(samples: np.ndarray, min_s: float = 45.0, max_s: float = 60.0) -> list[int]:
    """Cut points like the recorder's chunker: the quietest 100 ms between 45 and 60 s."""
    cuts, start, win = [], 0, RATE // 10
    while len(samples) - start > max_s * RATE:
        lo, hi = start + int(min_s * RATE), start + int(max_s * RATE)
        frames = samples[lo:hi][: (hi - lo) // win * win].reshape(-1, win)
        quietest = int(np.argmin((frames**2).mean(axis=1)))
        start = lo + quietest * win + win // 2
        cuts.append(start)
    return cuts


def split(samples: np.ndarray, cuts: Iterable[int]) -> list[np.ndarray]:
    bounds = [0, *cuts, len(samples)]
    return [samples[a:b] for a, b in itertools.pairwise(bounds)]


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0..999 999 in words, the way the reference text spells numbers ("thirty eight")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def normalise(text: str) -> str:
    """Lower case, numbers as words, '%' as 'percent', hyphens as spaces, no punctuation."""
    text = text.lower().replace("%", " percent ").replace("-", " ")
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text)
    text = re.sub(r"[^a-z' ]+", " ", text).replace("'", "")
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def reference_text() -> str:
    return CONSULT_TXT.read_text(encoding="utf-8")


@dataclass
class Api:
    """A tiny client for the tests: one user's authenticated calls to the server."""

    client: httpx.Client

    def new_session(self) -> str:
        response = self.client.post("/sessions", json={})
        assert response.status_code == 200, response.text
        session_id: str = response.json()["session_id"]
        return session_id

    def new_recording(self, session_id: str) -> str:
        response = self.client.post(f"/sessions/{session_id}/restful-segment-transcription")
        assert response.status_code == 200, response.text
        recording_id: str = response.json()["recording_id"]
        return recording_id

    def send_chunk(
        self,
        session_id: str,
        recording_id: str,
        index: int | str,
        data: bytes,
        content_type: str = "audio/ogg",
    ) -> httpx.Response:
        return self.client.post(
            f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:transcribe",
            files={"file": ("chunk.ogg", data, content_type)},
            data={"index": str(index)},
        )

    def finish(self, session_id: str, recording_id: str) -> httpx.Response:
        return self.client.post(
            f"/sessions/{session_id}/restful-segment-transcription/{recording_id}:finish"
        )

    def live(self, session_id: str) -> dict[str, Any]:
        response = self.client.get(f"/sessions/{session_id}/transcript/live")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_settled(self, session_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Poll the live transcript until no chunk is PENDING (fails the test on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.live(session_id)
            if body["chunks"] and all(c["status"] != "PENDING" for c in body["chunks"]):
                return body
            assert time.monotonic() < deadline, f"chunks still pending: {body['chunks']}"
            time.sleep(0.25)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll `condition` until it holds; fail the test with `what` after `timeout` seconds.

    For what the server does just after a chunk reads READY: its worker commits the result,
    then deletes the chunk's audio, then logs the READY line, so a client that saw READY can
    look before the file is gone or the line written."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not so after {timeout:.0f} s: {what}"
        time.sleep(0.05)


def log_since(log_path: Path, offset: int = 0) -> str:
    """The server log from byte `offset` on."""
    return log_path.read_bytes()[offset:].decode("utf-8", "replace")


def wait_for_log(log_path: Path, text: str, offset: int = 0, timeout: float = 120.0) -> str:
    """Wait until `text` is in the server log after `offset`; returns that part of the log."""
    wait_until(
        lambda: text in log_since(log_path, offset), f"not in the server log: {text}", timeout
    )
    return log_since(log_path, offset)


def api_for(
    base_url: str, api_key: str, email: str = "dr.a@example.org", user_id: str = "a-1"
) -> Api:
    response = httpx.get(
        f"{base_url}/jwt",
        params={"email": email, "third_party_internal_id": user_id},
        headers={"Heidi-Api-Key": api_key},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    client = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    return Api(client)


CONSULT_SCRIPT = REPO_ROOT / "samples" / "consult_script.txt"


def consult_turns() -> list[str]:
    """The consult's turns (one speaker each) as spoken, without the speaker labels."""
    lines = CONSULT_SCRIPT.read_text(encoding="utf-8").splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.strip()]


def speech_spans(samples: np.ndarray, min_pause_s: float = 0.6) -> list[tuple[int, int]]:
    """(start, end) sample ranges of speech separated by pauses of at least `min_pause_s`.

    The sample consult is synthetic: its turns are separated by ~0.8-1 s of digital silence,
    pauses within a turn are under 0.45 s, so with the default each span is one turn.
    """
    frame = RATE // 100
    energy = (samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2).mean(axis=1)
    loud = np.flatnonzero(energy > 1e-6)
    if loud.size == 0:
        return []
    gaps = np.flatnonzero(np.diff(loud) > min_pause_s * 100)
    starts = [loud[0], *loud[gaps + 1]]
    ends = [*loud[gaps], loud[-1]]
    return [(int(s) * frame, (int(e) + 1) * frame) for s, e in zip(starts, ends, strict=True)]
