"""The client against a spec-minimal "Heidi" on 127.0.0.1 (docs/heidi-conformance.md).

The server here answers with the least the published spec allows (it marks almost no
response field required) plus values it does not enumerate, and records every request so
each one is checked against the spec: method, path, query, headers, body and multipart
fields. The request schemas are copied from Heidi's spec (heidi-health-openapi.yml, v2).
"""

from __future__ import annotations

import email
import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs
import pytest

from recorder.heidi.client import HeidiClient, Timeouts
from recorder.heidi.errors import RejectedError
from recorder.states import ServerStatus

PREFIX = "/api/v2/ml-scribe/open-api"
# components.schemas.SessionCreate / SessionUpdate of the spec, verbatim.
SESSION_CREATE = {
    "type": "object",
    "properties": {
        "patient_profile_id": {"type": "string"},
        "ehr_appointment_id": {"type": "string"},
    },
}
SESSION_UPDATE = {
    "type": "object",
    "properties": {
        "duration": {"type": "integer"},
        "language_code": {"type": "string"},
        "output_language_code": {"type": "string"},
        "patient": {"type": "object"},
        "clinician_notes": {"type": "array", "items": {"type": "string"}},
        "ehr_appointment_id": {"type": "string"},
        "ehr_patient_id": {"type": "string"},
        "consent_obtained": {"type": "boolean"},
        "linked_sessions_for_context": {"type": "array", "items": {"type": "string"}},
    },
}
# Answers the spec allows: every Session / Transcript / LiveTranscript field is optional,
# the upload-audio 200 has no documented body.
MINIMAL: dict[tuple[str, str], tuple[int, bytes]] = {
    ("GET", "jwt"): (200, b'{"token": "tok-1", "expiration_time": "2099-01-01T00:00:00Z"}'),
    ("POST", "sessions"): (200, b'{"session_id": "s-1"}'),
    ("GET", "session"): (200, b"{}"),
    ("PATCH", "session"): (200, b"{}"),
    ("POST", "start"): (200, b'{"recording_id": "rec-1"}'),
    ("POST", "transcribe"): (200, b'{"is_success": true}'),
    ("POST", "finish"): (200, b'{"is_success": true}'),
    ("POST", "upload"): (200, b""),
    ("GET", "transcript"): (200, b'{"transcript": "good morning"}'),
    ("GET", "live"): (
        200,
        json.dumps(
            {
                "active_source": "SOMETHING_NEW",
                "chunks": [
                    {"id": "9f1c", "text": "", "duration": 45.2},  # no status: not done yet
                    {"id": "a07e", "status": "READY", "text": "good morning", "source": "NEW"},
                    {"id": "b3d2", "status": "FAILED", "future_field": {"x": 1}},
                ],
                "next_cursor": None,
            }
        ).encode(),
    ),
}
ROUTES = [
    (re.compile(r"/jwt"), "jwt"),
    (re.compile(r"/sessions"), "sessions"),
    (re.compile(r"/sessions/[^/]+"), "session"),
    (re.compile(r"/sessions/[^/]+/restful-segment-transcription"), "start"),
    (re.compile(r"/sessions/[^/]+/restful-segment-transcription/[^/]+:transcribe"), "transcribe"),
    (re.compile(r"/sessions/[^/]+/restful-segment-transcription/[^/]+:finish"), "finish"),
    (re.compile(r"/sessions/[^/]+/upload-audio"), "upload"),
    (re.compile(r"/sessions/[^/]+/transcript"), "transcript"),
    (re.compile(r"/sessions/[^/]+/transcript/live"), "live"),
]


@dataclass
class Seen:
    """One request as it arrived."""

    method: str
    route: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Heidi:
    url: str
    seen: list[Seen] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=lambda: {**MINIMAL})

    def only(self, route: str) -> Seen:
        matching = [s for s in self.seen if s.route == route]
        assert len(matching) == 1, [s.route for s in self.seen]
        return matching[0]


@pytest.fixture
def heidi() -> Iterator[Heidi]:
    state = Heidi(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            path = parts.path.removeprefix(PREFIX)
            route = next((name for rx, name in ROUTES if rx.fullmatch(path)), "unknown")
            state.seen.append(
                Seen(
                    self.command,
                    route,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            status, answer = state.answers.get((self.command, route), (404, b"{}"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PATCH = _reply

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client(heidi: Heidi) -> Iterator[HeidiClient]:
    with HeidiClient(
        heidi.url,
        "tenant-key",
        email="dr.a@example.org",
        user_id="ehr-7",
        timeouts=Timeouts(connect=30, read=30, write=30, pool=30, slow_read=30),
    ) as made:
        yield made


def _multipart(seen: Seen) -> dict[str, tuple[str | None, str, bytes]]:
    """name -> (file name, content type, bytes) of a multipart/form-data body."""
    content_type = seen.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    message = email.message_from_bytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + seen.body
    )
    fields: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.get_payload():
        assert isinstance(part, email.message.Message)
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        fields[name] = (part.get_filename(), part.get_content_type(), payload)
    return fields


def _json_body(seen: Seen, schema: dict[str, Any]) -> Any:
    assert seen.headers["content-type"] == "application/json"
    body = json.loads(seen.body)
    errors = [
        str(e).splitlines()[0] for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(body)
    ]
    assert not errors, (seen.route, body, errors)
    return body


def test_every_request_is_as_the_spec_describes(heidi: Heidi, client: HeidiClient) -> None:
    session_id = client.create_session()
    client.update_session(session_id, consent_obtained=True, language_code="en-AU", duration_s=61.4)
    recording_id = client.start_segments(session_id)
    client.transcribe_segment(session_id, recording_id, 3, b"OggS-chunk")
    client.finish_segments(session_id, recording_id)
    client.upload_audio(session_id, b"OggS-whole")
    client.transcript(session_id)
    client.live_transcript(session_id)

    jwt = heidi.only("jwt")
    assert jwt.method == "GET"
    assert jwt.query == {"email": ["dr.a@example.org"], "third_party_internal_id": ["ehr-7"]}
    assert jwt.headers["heidi-api-key"] == "tenant-key" and "authorization" not in jwt.headers
    for seen in heidi.seen:
        assert "application/json" in seen.headers["accept"]
        if seen.route != "jwt":
            assert seen.headers["authorization"] == "Bearer tok-1", seen.route
            assert "heidi-api-key" not in seen.headers, seen.route  # the tenant key stays home
            assert seen.query == {}, seen.route  # recording_status is never guessed

    assert _json_body(heidi.only("sessions"), SESSION_CREATE) == {}  # requestBody is required
    assert _json_body(heidi.only("session"), SESSION_UPDATE) == {
        "consent_obtained": True,
        "language_code": "en-AU",
        "duration": 61,
    }
    for route in ("start", "finish"):
        assert heidi.only(route).method == "POST" and heidi.only(route).body == b""
    chunk = _multipart(heidi.only("transcribe"))
    assert set(chunk) == {"file", "index"}
    assert chunk["index"] == (None, "text/plain", b"3")
    assert chunk["file"][1:] == ("audio/ogg", b"OggS-chunk") and chunk["file"][0]
    whole = _multipart(heidi.only("upload"))
    assert set(whole) == {"file"}
    assert whole["file"][1] == "audio/ogg" and whole["file"][2] == b"OggS-whole"


def test_a_token_with_a_lower_case_rfc3339_expiry_is_read(
    heidi: Heidi, client: HeidiClient
) -> None:
    # RFC 3339 (the spec's date-time) allows "t" and "z" in lower case.
    lower = b'{"token": "tok-1", "expiration_time": "2099-01-01t00:00:00.5z"}'
    heidi.answers[("GET", "jwt")] = (200, lower)
    token = client.fetch_token()
    assert (token.expires_at, token.expiry_known) == (4070908800.5, True)


@pytest.mark.parametrize(
    "answer",
    [
        b'{"token": "tok-1"}',
        b'{"token": "tok-1", "expiration_time": "in an hour"}',
        b'{"token": "tok-1", "expiration_time": 4070908800}',
    ],
)
def test_a_token_whose_expiry_cannot_be_read_is_still_used(
    heidi: Heidi, client: HeidiClient, answer: bytes
) -> None:
    heidi.answers[("GET", "jwt")] = (200, answer)
    assert client.create_session() == "s-1"
    assert heidi.seen[-1].headers["authorization"] == "Bearer tok-1"
    client.create_session()  # the short assumed life is not over: no second /jwt
    assert [s.route for s in heidi.seen].count("jwt") == 1


def test_a_session_answer_without_any_field_is_read(client: HeidiClient) -> None:
    info = client.get_session("s-1")
    assert info.session_id == "s-1"
    assert (info.consent_obtained, info.language_code, info.duration_s) == (None, None, None)


def test_an_upload_audio_answer_without_a_body_means_stored(
    heidi: Heidi, client: HeidiClient
) -> None:
    assert client.upload_audio("s-1", b"OggS") is None
    heidi.answers[("POST", "upload")] = (200, b"stored")  # not JSON either: still stored
    assert client.upload_audio("s-1", b"OggS") is None
    documented = b'{"uploaded_audio": {"id": "u1", "index": 0, "status": "INITIALIZED"}}'
    heidi.answers[("POST", "upload")] = (200, documented)
    uploaded = client.upload_audio("s-1", b"OggS")
    assert uploaded is not None and (uploaded.audio_id, uploaded.index) == ("u1", 0)


def test_a_live_transcript_with_unknown_and_missing_values_is_read(client: HeidiClient) -> None:
    live = client.live_transcript("s-1")
    assert live.active_source == "SOMETHING_NEW"
    assert [(c.chunk_id, c.status, c.text, c.source) for c in live.chunks] == [
        ("9f1c", ServerStatus.PENDING, "", ""),
        ("a07e", ServerStatus.READY, "good morning", "NEW"),
        ("b3d2", ServerStatus.FAILED, "", ""),
    ]
    assert live.chunks[0].duration_s == 45.2


def test_fastapi_validation_errors_are_read(heidi: Heidi, client: HeidiClient) -> None:
    body = {
        "detail": [
            {"loc": ["body", "index"], "msg": "field required", "type": "value_error.missing"}
        ]
    }
    heidi.answers[("POST", "transcribe")] = (422, json.dumps(body).encode())
    with pytest.raises(RejectedError) as caught:
        client.transcribe_segment("s-1", "rec-1", 0, b"OggS")
    assert caught.value.status == 422
    assert (caught.value.server_msg, caught.value.server_type) == (
        "field required",
        "value_error.missing",
    )
