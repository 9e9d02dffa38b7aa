"""A long whole-file upload, decoded and transcribed window by window, on the real server.

The file is the consult twice (~5.3 min, 7 windows). The words on each side of every cut
must come out once: a word lost or repeated at a cut shows in the word alignment against
the reference as a deletion or an insertion right there. The WER bound is test_flow's.
"""

from __future__ import annotations

from itertools import accumulate
from pathlib import Path

import jiwer
import numpy as np
import pytest

from server.audio import DecodedAudio
from server.windows import windows
from tests.server.support import (
    Api,
    consult_turns,
    normalise,
    read_consult,
    speech_spans,
    wer,
    write_ogg,
)
from tests.server.test_flow import WER_BOUND

REPEATS = 2
NEAR = 2  # reference words on each side of a cut that must be neither dropped nor doubled


@pytest.fixture(scope="module")
def long_ogg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("long_upload")
    return write_ogg(folder / "consult_x2.ogg", np.concatenate([read_consult()] * REPEATS))


def _upload(api: Api, session_id: str, data: bytes) -> str:
    response = api.client.post(
        f"/sessions/{session_id}/upload-audio",
        files={"file": ("long.ogg", data, "audio/ogg")},
    )
    assert response.status_code == 200, response.text
    upload_id: str = response.json()["uploaded_audio"]["id"]
    return upload_id


def _cuts_in_words(path: Path) -> list[tuple[int, bool]]:
    """Where the server cuts this file: (reference words spoken before the cut, whether the
    cut lies in a pause between turns).

    The cuts are found with the server's own decoder and windowing (the same samples, so the
    same cuts). A cut inside a turn is placed among its words by time (synthetic speech has
    an even pace)."""
    samples = np.concatenate(list(DecodedAudio(path)))
    cuts = list(accumulate(len(w) for w in windows([samples])))[:-1]
    turns = speech_spans(samples)
    turn_words = [len(_words(t)) for t in consult_turns()] * REPEATS
    assert len(turns) == len(turn_words)
    found = []
    for cut in cuts:
        done = sum(1 for _, end in turns if end <= cut)
        words = sum(turn_words[:done])
        if done < len(turns) and turns[done][0] < cut:  # inside turn `done`
            start, end = turns[done]
            found.append((words + round(turn_words[done] * (cut - start) / (end - start)), False))
        else:
            found.append((words, True))
    return found


def _words(text: str) -> list[str]:
    """Normalised words; "all right" counts as the reference's "alright" (not an insertion)."""
    return normalise(text).replace("all right", "alright").split()


def _context(words: list[str], start: int, end: int) -> str:
    return f"...{' '.join(words[max(0, start - 6) : start])} [{' '.join(words[start:end])}]" + (
        f" {' '.join(words[end : end + 6])}..."
    )


def test_a_long_upload_is_transcribed_whole_with_no_word_lost_or_doubled_at_the_cuts(
    api: Api, long_ogg: Path
) -> None:
    session_id = api.new_session()
    upload_id = _upload(api, session_id, long_ogg.read_bytes())

    final = api.client.get(f"/sessions/{session_id}/transcript")  # waits for transcription
    assert final.status_code == 200, final.text
    transcript = final.json()["transcript"]
    live = api.live(session_id)
    assert live["active_source"] == "USER_UPLOADED"
    assert [(c["id"], c["status"], c["source"]) for c in live["chunks"]] == [
        (upload_id, "READY", "USER_UPLOADED")
    ]
    assert abs(live["chunks"][0]["duration"] - REPEATS * 159.0) < 1.0
    assert live["transcript"] == transcript == live["chunks"][0]["text"]

    reference = " ".join(consult_turns() * REPEATS)
    score = wer(reference, transcript)
    print(f"long upload ({REPEATS} x consult) WER {score:.3f}")
    assert score <= WER_BOUND

    cuts = _cuts_in_words(long_ogg)
    assert len(cuts) >= 5
    ref_words, hyp_words = _words(reference), _words(transcript)
    alignment = jiwer.process_words(" ".join(ref_words), " ".join(hyp_words)).alignments[0]
    for at, _ in cuts:
        near = range(at - NEAR, at + NEAR)
        for chunk in alignment:
            if chunk.type == "delete":
                lost = set(range(chunk.ref_start_idx, chunk.ref_end_idx)) & set(near)
                assert not lost, f"words lost at the cut {_context(ref_words, at, at)}"
            if chunk.type == "insert":
                assert chunk.ref_start_idx not in (*near, at + NEAR), (
                    f"words inserted at the cut {_context(ref_words, at, at)}: heard"
                    f" {_context(hyp_words, chunk.hyp_start_idx, chunk.hyp_end_idx)}"
                )
    assert all(in_pause for _, in_pause in cuts), f"cuts within a turn: {cuts}"


def test_damaged_long_uploads_end_failed_with_a_reason_and_the_queue_goes_on(
    api: Api, long_ogg: Path, short_chunks: list[bytes]
) -> None:
    whole = long_ogg.read_bytes()
    corrupt = bytearray(whole)
    corrupt[len(corrupt) * 3 // 4] ^= 0xFF
    cases = {"truncated": whole[: len(whole) * 2 // 3], "checksum": bytes(corrupt)}
    sessions = {}
    for expected, data in cases.items():
        sessions[expected] = api.new_session()
        _upload(api, sessions[expected], data)
        api.live(sessions[expected])  # a transcript GET queues the upload
    good = api.new_session()
    _upload(api, good, short_chunks[0])

    final = api.client.get(f"/sessions/{good}/transcript")  # queued after the damaged ones
    assert final.status_code == 200 and "good morning" in normalise(final.json()["transcript"])
    for expected, session_id in sessions.items():
        chunk = api.wait_settled(session_id)["chunks"][0]
        assert chunk["status"] == "FAILED" and chunk["text"] == ""
        assert "damaged Ogg file" in chunk["error"] and expected in chunk["error"]
        refused = api.client.get(f"/sessions/{session_id}/transcript")
        assert refused.status_code == 200 and refused.json()["transcript"] == ""
