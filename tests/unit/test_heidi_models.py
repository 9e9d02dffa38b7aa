"""Defensive parsing of answers: garbage gives ServerDownError naming the field, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.heidi.client import parse_error_body
from recorder.heidi.errors import ServerDownError
from recorder.heidi.models import (
    LiveChunk,
    LiveTranscript,
    SessionInfo,
    Token,
    Transcript,
    UploadedAudio,
    require_success,
)
from recorder.states import ServerStatus

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def test_token_parses_iso_times_with_zone() -> None:
    token = Token.parse({"token": "abc", "expiration_time": "2030-01-01T00:00:00Z"})
    assert token.token == "abc"
    assert token.expires_at == 1893456000.0
    naive = Token.parse({"token": "abc", "expiration_time": "2030-01-01T00:00:00"})
    assert naive.expires_at == token.expires_at


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "token",
        {"expiration_time": "2030-01-01T00:00:00Z"},
        {"token": 5, "expiration_time": "2030-01-01T00:00:00Z"},
        {"token": "", "expiration_time": "2030-01-01T00:00:00Z"},
    ],
)
def test_bad_token_answers_are_clear_errors(data: Any) -> None:
    with pytest.raises(ServerDownError, match="does not match the Heidi API"):
        Token.parse(data)


@pytest.mark.parametrize(
    "data",
    [
        {"token": "abc"},
        {"token": "abc", "expiration_time": "tomorrow"},
        {"token": "abc", "expiration_time": 1893456000},
        {"token": "abc", "expiration_time": None},
    ],
)
def test_a_token_with_an_unreadable_expiry_is_kept_with_the_expiry_unknown(data: Any) -> None:
    token = Token.parse(data)
    assert (token.token, token.expiry_known) == ("abc", False)


def test_live_transcript_parses_and_tolerates_unknown_status() -> None:
    live = LiveTranscript.parse(
        {
            "session_id": "s",
            "transcript": "hello there",
            "chunks": [
                {
                    "id": "r-0",
                    "status": "READY",
                    "duration": 4.5,
                    "text": "hello",
                    "source": "LIVE",
                },
                {"id": "r-1", "status": "PROCESSING", "duration": 3},
                {"status": "FAILED"},
            ],
        }
    )
    assert [c.status for c in live.chunks] == [
        ServerStatus.READY,
        ServerStatus.PENDING,
        ServerStatus.FAILED,
    ]
    assert live.chunks[0].index_in("r") == 0
    assert live.chunks[1].index_in("other") is None
    assert live.chunks[2].chunk_id == "2"


@pytest.mark.parametrize(
    "data",
    [
        {"chunks": "nope"},
        {"chunks": [5]},
        {"chunks": [{"id": "a", "status": 3}]},
        {"chunks": [{"id": "a", "status": "READY", "text": ["x"]}]},
        {"transcript": 42},
        [1, 2],
    ],
)
def test_bad_live_transcripts_are_clear_errors(data: Any) -> None:
    with pytest.raises(ServerDownError):
        LiveTranscript.parse(data)


@settings(deadline=None)  # a loaded CI machine can stall any example past the 200 ms default
@given(json_values)
def test_no_json_value_crashes_any_parser(data: Any) -> None:
    parsers = [
        Token.parse,
        SessionInfo.parse,
        Transcript.parse,
        UploadedAudio.parse,
        LiveTranscript.parse,
        lambda d: LiveChunk.parse(d, 0),
        lambda d: require_success(d, "x"),
    ]
    for parse in parsers:
        try:
            parse(data)
        except ServerDownError as error:  # the only failure allowed, and it says what is wrong
            assert "Heidi API" in str(error) or "did not confirm" in str(error)


def test_fields_only_shown_never_refuse_an_answer() -> None:
    """Odd values where the recorder only shows or ignores a field: read as unknown."""
    live = LiveTranscript.parse(
        {
            "session_id": 7,
            "active_source": ["LIVE"],
            "chunks": [{"id": "a", "status": "ready", "duration": "long", "source": 5}],
        }
    )
    assert (live.session_id, live.active_source) == (None, None)
    chunk = live.chunks[0]
    assert (chunk.status, chunk.duration_s, chunk.source) == (ServerStatus.READY, 0.0, "")
    final = Transcript.parse({"transcript": "hi", "session_id": 1, "language_code": {}})
    assert (final.transcript, final.session_id, final.language_code) == ("hi", None, None)
    info = SessionInfo.parse({"duration": "61", "consent_obtained": "yes"}, "s-1")
    assert (info.session_id, info.duration_s, info.consent_obtained) == ("s-1", None, None)
    # `transcript` itself is relied on: without it the final answer is an error (retried).
    with pytest.raises(ServerDownError, match="transcript"):
        Transcript.parse({"session_id": "s-1"})


def test_require_success_needs_a_true() -> None:
    require_success({"is_success": True}, "upload")
    require_success({}, "upload")  # a 2xx without the flag (or an empty body) is a yes
    for bad in ({"is_success": False}, {"is_success": "true"}, {"is_success": None}):
        with pytest.raises(ServerDownError, match="did not confirm"):
            require_success(bad, "upload")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"detail": {"msg": "Session not found", "type": "SessionNotFoundError"}}',
            ("Session not found", "SessionNotFoundError"),
        ),
        (b'{"detail": "Not Found"}', ("Not Found", None)),
        (
            b'{"detail": [{"msg": "field required", "type": "missing"}]}',
            ("field required", "missing"),
        ),
        (b"<html>502</html>", (None, None)),
        (b'{"detail": {"msg": 5}}', (None, None)),
        (b"\xff\xfe", (None, None)),
        (b"[]", (None, None)),
    ],
)
def test_error_bodies(body: bytes, expected: tuple[str | None, str | None]) -> None:
    assert parse_error_body(body) == expected


def test_error_message_is_capped() -> None:
    msg, _ = parse_error_body(b'{"detail": {"msg": "' + b"x" * 5000 + b'", "type": "T"}}')
    assert msg is not None and len(msg) <= 300
