"""The local server answers as Heidi's published description says (docs/heidi-conformance.md).

Every 2xx body of an implemented operation is validated against that operation's response
schema in Heidi's spec (`server/heidi_openapi.yml`, the project's copy), with date-time
formats checked; the segment endpoints, which the spec file does not list, against the
shapes of Heidi's developer docs copied below. Requests the spec's types forbid are 422.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import Api

SPEC_FILE = Path(__file__).resolve().parents[2] / "server" / "heidi_openapi.yml"

# From Heidi's developer docs (not in the spec file): the segment and upload-audio answers
# and the documented error body.
DOC_SCHEMAS: dict[str, dict[str, Any]] = {
    "RecordingCreated": {
        "type": "object",
        "required": ["recording_id"],
        "properties": {"recording_id": {"type": "string", "minLength": 1}},
    },
    "Success": {
        "type": "object",
        "required": ["is_success"],
        "properties": {"is_success": {"const": True}},
    },
    "UploadedAudio": {
        "type": "object",
        "required": ["uploaded_audio"],
        "properties": {
            "uploaded_audio": {
                "type": "object",
                "required": ["id", "index", "status", "created_at", "access_url", "expiry"],
                "properties": {
                    "id": {"type": "string"},
                    "index": {"type": "integer"},
                    "status": {"const": "INITIALIZED"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "access_url": {"type": "null"},
                    "expiry": {"const": 0},
                },
            }
        },
    },
    "Error": {
        "type": "object",
        "required": ["detail"],
        "properties": {
            "detail": {
                "type": "object",
                "required": ["msg", "type"],
                "properties": {"msg": {"type": "string"}, "type": {"type": "string"}},
            }
        },
    },
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


def _spec_schema(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The 200 JSON schema of one operation, able to resolve the spec's components."""
    answer = spec["paths"][path][method]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    return {"components": spec["components"], **schema}


def _check(schema: dict[str, Any], response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    errors = [str(error).splitlines()[0] for error in validator.iter_errors(body)]
    assert not errors, (response.request.method, response.request.url.path, errors, body)
    return body


def test_every_answer_matches_the_published_schemas(
    api: Api, local_server: LocalServerProcess, spec: dict[str, Any], short_chunks: list[bytes]
) -> None:
    jwt = httpx.get(
        f"{local_server.base_url}/jwt",
        params={"email": "conform@example.org", "third_party_internal_id": "c-1"},
        headers={"Heidi-Api-Key": local_server.api_key},
        timeout=10,
    )
    _check(_spec_schema(spec, "get", "/jwt"), jwt)

    created = api.client.post("/sessions", json={})
    session_id = _check(_spec_schema(spec, "post", "/sessions"), created)["session_id"]
    session_schema = _spec_schema(spec, "get", "/sessions/{session_id}")
    # A fresh session: nothing set yet, and nothing may come back as null.
    fresh = _check(session_schema, api.client.get(f"/sessions/{session_id}"))
    assert fresh["session_id"] == session_id
    update = {
        "duration": 61,
        "language_code": "en",
        "output_language_code": "en",
        "patient": {"name": "Test Patient"},
        "clinician_notes": ["note"],
        "ehr_appointment_id": "appt-1",
        "ehr_patient_id": "pat-1",
        "consent_obtained": True,
        "linked_sessions_for_context": [],
    }
    patched = api.client.patch(f"/sessions/{session_id}", json=update)
    body = _check(_spec_schema(spec, "patch", "/sessions/{session_id}"), patched)
    assert {k: body[k] for k in ("duration", "language_code", "consent_obtained")} == {
        "duration": 61,
        "language_code": "en",
        "consent_obtained": True,
    }

    segments = f"/sessions/{session_id}/restful-segment-transcription"
    recording_id = _check(DOC_SCHEMAS["RecordingCreated"], api.client.post(segments))[
        "recording_id"
    ]
    _check(DOC_SCHEMAS["Success"], api.send_chunk(session_id, recording_id, 0, short_chunks[0]))
    _check(DOC_SCHEMAS["Success"], api.finish(session_id, recording_id))
    api.wait_settled(session_id)
    live_schema = _spec_schema(spec, "get", "/sessions/{session_id}/transcript/live")
    live = _check(live_schema, api.client.get(f"/sessions/{session_id}/transcript/live"))
    assert live["active_source"] == "LIVE"
    assert [(c["status"], c["source"]) for c in live["chunks"]] == [("READY", "LIVE")]
    final = api.client.get(f"/sessions/{session_id}/transcript")
    text = _check(_spec_schema(spec, "get", "/sessions/{session_id}/transcript"), final)
    assert text["session_id"] == session_id and text["transcript"]

    other = api.new_session()
    upload = api.client.post(
        f"/sessions/{other}/upload-audio",
        files={"file": ("whole.ogg", short_chunks[1], "audio/ogg")},
    )
    _check(DOC_SCHEMAS["UploadedAudio"], upload)
    after = _check(live_schema, api.client.get(f"/sessions/{other}/transcript/live"))
    assert after["active_source"] == "USER_UPLOADED"
    assert [c["source"] for c in after["chunks"]] == ["USER_UPLOADED"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/sessions", None),  # the spec's requestBody is required
        ("PATCH", "/sessions/{id}", {"duration": 61.4}),  # integer
        ("PATCH", "/sessions/{id}", {"duration": "61"}),
        ("PATCH", "/sessions/{id}", {"duration": True}),
        ("PATCH", "/sessions/{id}", {"consent_obtained": "true"}),  # boolean
        ("PATCH", "/sessions/{id}", {"consent_obtained": 1}),
    ],
)
def test_requests_the_spec_forbids_are_422(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    url = path.replace("{id}", api.new_session())
    response = api.client.request(method, url, json=body)
    _check(DOC_SCHEMAS["Error"], response, 422)
    assert response.json()["detail"]["type"] == "ValidationError"


def test_a_whole_number_sent_as_a_float_is_an_integer(api: Api) -> None:
    session_id = api.new_session()
    response = api.client.patch(f"/sessions/{session_id}", json={"duration": 61.0})
    assert response.status_code == 200, response.text
    assert response.json()["duration"] == 61 and isinstance(response.json()["duration"], int)
