"""The server's route table against Heidi's spec copy and its own OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from server.spec_paths import IMPLEMENTED, UNIMPLEMENTED
from tests.fixtures.local_server import API_PREFIX, LocalServerProcess

SPEC = Path(__file__).resolve().parents[2] / "server" / "heidi_openapi.yml"


def _spec_operations() -> set[tuple[str, str]]:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_spec_operation_is_either_implemented_or_501() -> None:
    assert set(IMPLEMENTED) | set(UNIMPLEMENTED) == _spec_operations()
    assert not set(IMPLEMENTED) & set(UNIMPLEMENTED)


def test_every_unimplemented_operation_answers_501(local_server: LocalServerProcess) -> None:
    headers = local_server.auth_headers()
    for method, path in UNIMPLEMENTED:
        url = local_server.base_url + path.format(session_id="s1", patient_profile_id="p1")
        response = httpx.request(method, url, headers=headers, json={})
        assert response.status_code == 501, (method, path)
        assert response.json()["detail"]["type"] == "NotImplementedError"


def test_our_openapi_document_lists_what_we_implement(local_server: LocalServerProcess) -> None:
    document = httpx.get(f"{local_server.root_url}/openapi.json").json()
    ours = {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, item in document["paths"].items()
        for method in item
    }
    segments = "/sessions/{session_id}/restful-segment-transcription"
    assert ours == set(IMPLEMENTED) | {
        ("POST", segments),
        ("POST", segments + "/{recording_id}:transcribe"),
        ("POST", segments + "/{recording_id}:finish"),
        ("GET", "/healthz"),
    }
    transcribe = document["paths"][API_PREFIX + segments + "/{recording_id}:transcribe"]["post"]
    schema = transcribe["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file", "index"]
