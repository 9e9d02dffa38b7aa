"""language_code reaches Whisper, and a language the model cannot transcribe is refused.

The bundled model (Whisper tiny.en) is English only. faster-whisper would transcribe
German speech "as English" with only a log warning; the server must say no instead.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server.languages import ENGLISH_ONLY, LanguageUnsupported, model_languages
from server.store import Store
from server.transcriber import Transcriber, default_model_path
from server.workers import WorkerPool
from tests.server.support import Api, read_consult
from tests.server.test_bad_input import assert_error


@pytest.mark.parametrize("code", ["en", "en-AU", "en-GB", "EN-us"])
def test_english_codes_are_accepted_and_stored(api: Api, code: str) -> None:
    session_id = api.new_session()
    response = api.client.patch(f"/sessions/{session_id}", json={"language_code": code})
    assert response.status_code == 200, response.text
    assert api.client.get(f"/sessions/{session_id}").json()["language_code"] == code


@pytest.mark.parametrize("code", ["de", "fr-CA", "zh-Hant-TW", "xx"])
def test_a_language_the_model_cannot_transcribe_is_refused_at_update(api: Api, code: str) -> None:
    session_id = api.new_session()
    assert api.client.patch(f"/sessions/{session_id}", json={"language_code": "en-AU"}).is_success
    response = api.client.patch(
        f"/sessions/{session_id}", json={"language_code": code, "duration": 12}
    )
    msg = assert_error(response, 422, "UnsupportedLanguageError")
    assert code in msg and "English only" in msg
    session = api.client.get(f"/sessions/{session_id}").json()
    assert session["language_code"] == "en-AU"  # the refused update changed nothing
    assert session.get("duration") is None


@pytest.mark.parametrize("code", ["english", "e", "en_AU", "12", "", "en-", "en AU", "de-DE-x-y-z"])
def test_malformed_codes_are_422(api: Api, code: str) -> None:
    session_id = api.new_session()
    for field in ("language_code", "output_language_code"):
        msg = assert_error(api.client.patch(f"/sessions/{session_id}", json={field: code}), 422)
        assert field in msg and "language code" in msg


def test_output_language_is_stored_not_used_for_transcription(api: Api) -> None:
    """It is the language of generated notes (which this server does not write)."""
    session_id = api.new_session()
    response = api.client.patch(
        f"/sessions/{session_id}", json={"language_code": "en", "output_language_code": "de"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["output_language_code"] == "de"


def test_an_unknown_session_is_404_before_the_language_is_judged(api: Api) -> None:
    assert_error(api.client.patch("/sessions/nope", json={"language_code": "de"}), 404)


def test_the_bundled_model_is_read_as_english_only_and_a_bigger_vocabulary_as_multilingual(
    tmp_path: Path,
) -> None:
    assert model_languages(default_model_path()) == ENGLISH_ONLY
    multilingual = tmp_path / "multi"
    multilingual.mkdir()
    vocabulary = (default_model_path() / "vocabulary.txt").read_bytes()
    (multilingual / "vocabulary.txt").write_bytes(vocabulary + b"<|extra|>\n")
    languages = model_languages(multilingual)
    assert {"en", "de", "fr", "zh"} <= languages and len(languages) > 90
    assert model_languages(tmp_path / "missing") == ENGLISH_ONLY


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber(default_model_path())


def test_the_transcriber_passes_the_language_and_refuses_one_the_model_lacks(
    transcriber: Transcriber,
) -> None:
    speech = read_consult()[: 6 * 16000]
    assert transcriber.transcribe(speech, "en-AU").strip()
    with pytest.raises(LanguageUnsupported, match="'de'"):
        transcriber.transcribe(speech, "de")


def _write_chunk(audio_dir: Path, name: str, data: bytes) -> str:
    audio_dir.mkdir(parents=True, exist_ok=True)
    (audio_dir / name).write_bytes(data)
    return name


def test_a_queued_chunk_in_a_language_the_model_lacks_ends_failed_not_english(
    tmp_path: Path, transcriber: Transcriber, short_chunks: list[bytes]
) -> None:
    """E.g. a session set to German under a multilingual model, then the server restarted
    with tiny.en: the queued chunk FAILS with the reason, it is not transcribed as English."""
    store = Store(tmp_path / "server.sqlite3")
    audio_dir = tmp_path / "audio"
    german = store.create_session("owner", {"language_code": "de"})
    english = store.create_session("owner", {"language_code": "en-AU"})
    for session_id in (german, english):
        recording_id = store.create_recording(session_id)
        name = _write_chunk(audio_dir, f"{session_id}.audio", short_chunks[0])
        store.put_segment(session_id, recording_id, 0, name, 6.0)
    pool = WorkerPool(store, transcriber, audio_dir)
    pool.start()
    try:
        deadline = time.monotonic() + 120
        while store.count_pending(german) or store.count_pending(english):
            assert time.monotonic() < deadline, "chunks still pending"
            time.sleep(0.1)
    finally:
        pool.stop()
    [failed] = store.chunks_of(german)
    assert failed.state == "FAILED" and failed.text is None
    assert failed.reason is not None and "'de'" in failed.reason
    [ready] = store.chunks_of(english)
    assert ready.state == "READY" and ready.text
    assert list(audio_dir.iterdir()) == []  # both final: no audio kept
    store.close()
