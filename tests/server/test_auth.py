"""API key, JWTs and isolation: a user never sees, changes or learns of another's sessions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

import httpx
import jwt
import pytest

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import Api, api_for


def _jwt(server: LocalServerProcess, headers: dict[str, str], **params: str) -> httpx.Response:
    query = {"email": "dr.b@example.org", "third_party_internal_id": "b-1", **params}
    return httpx.get(f"{server.base_url}/jwt", params=query, headers=headers, timeout=10)


def _assert_error(response: httpx.Response, status: int, type_: str | None = None) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert set(detail) == {"msg", "type"} and detail["msg"]
    if type_ is not None:
        assert detail["type"] == type_


def test_jwt_is_issued_for_the_right_key_with_an_expiry(local_server: LocalServerProcess) -> None:
    before = time.time()
    response = _jwt(local_server, {"Heidi-Api-Key": local_server.api_key})
    assert response.status_code == 200
    body = response.json()
    expires = datetime.fromisoformat(body["expiration_time"]).timestamp()
    assert before + 3500 < expires < time.time() + 3700
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == "dr.b@example.org" and claims["tid"] == "b-1"


@pytest.mark.parametrize(
    ("headers", "type_"),
    [
        ({}, "MissingApiKeyError"),
        ({"Heidi-Api-Key": ""}, "MissingApiKeyError"),
        ({"Heidi-Api-Key": "wrong-key-123456"}, "InvalidApiKeyError"),
    ],
)
def test_jwt_needs_the_api_key(
    local_server: LocalServerProcess, headers: dict[str, str], type_: str
) -> None:
    _assert_error(_jwt(local_server, headers), 401, type_)


@pytest.mark.parametrize(
    "params",
    [
        {"email": "not-an-email"},
        {"email": "x" * 300 + "@example.org"},
        {"third_party_internal_id": ""},
        {"third_party_internal_id": "i" * 257},
        {"third_party_internal_id": "tab\there"},
    ],
)
def test_jwt_rejects_bad_identities(
    local_server: LocalServerProcess, params: dict[str, str]
) -> None:
    _assert_error(_jwt(local_server, {"Heidi-Api-Key": local_server.api_key}, **params), 422)


def test_jwt_needs_both_identity_parts(local_server: LocalServerProcess) -> None:
    response = httpx.get(
        f"{local_server.base_url}/jwt",
        params={"email": "dr.b@example.org"},
        headers={"Heidi-Api-Key": local_server.api_key},
    )
    _assert_error(response, 422, "ValidationError")


def _sessions(server: LocalServerProcess, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return httpx.post(f"{server.base_url}/sessions", json={}, headers=headers, timeout=10)


def _forged(claims: dict[str, object], secret: str = "not-the-server-secret-" * 3) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def test_calls_without_a_valid_token_are_401(local_server: LocalServerProcess) -> None:
    now = int(time.time())
    good_claims = {
        "iss": "ambient-recorder-local-server",
        "sub": "dr.b@example.org",
        "tid": "b-1",
        "iat": now,
        "exp": now + 600,
    }
    real = local_server.token()
    header, payload, signature = real.split(".")
    for authorization, type_ in [
        (None, "MissingTokenError"),
        ("Bearer", "InvalidTokenError"),
        ("Basic dXNlcjpwYXNz", "InvalidTokenError"),
        ("Bearer not.a.jwt", "InvalidTokenError"),
        (f"Bearer {_forged(good_claims)}", "InvalidTokenError"),  # wrong signing key
        (f"Bearer {header}.{payload}.{signature[::-1]}", "InvalidTokenError"),
        (f"Bearer {jwt.encode(good_claims, '', algorithm='none')}", "InvalidTokenError"),
        (f"Bearer {local_server.api_key}", "InvalidTokenError"),  # the API key is no token
    ]:
        response = _sessions(local_server, authorization)
        _assert_error(response, 401, type_)
        assert response.headers["www-authenticate"] == "Bearer"


def test_an_expired_token_is_401_and_a_fresh_one_works(
    make_local_server: Callable[..., LocalServerProcess],
) -> None:
    server = make_local_server(jwt_ttl_s=3)
    asked_at = time.time()
    token = server.token()
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert expires_at >= asked_at + 3  # a token lives its whole TTL, not up to 1 s less
    assert _sessions(server, f"Bearer {token}").status_code == 200
    time.sleep(max(0.0, expires_at - time.time()) + 0.2)
    _assert_error(_sessions(server, f"Bearer {token}"), 401, "TokenExpiredError")
    assert _sessions(server, f"Bearer {server.token()}").status_code == 200


def test_tokens_survive_a_server_restart(local_server: LocalServerProcess, api: Api) -> None:
    session_id = api.new_session()
    local_server.restart()
    assert api.client.get(f"/sessions/{session_id}").status_code == 200


def test_users_cannot_see_touch_or_detect_each_others_sessions(
    local_server: LocalServerProcess, api: Api, short_chunks: list[bytes]
) -> None:
    session_id = api.new_session()
    recording_id = api.new_recording(session_id)
    assert api.send_chunk(session_id, recording_id, 0, short_chunks[0]).status_code == 200
    # Same e-mail, other internal id: a different user.
    intruders = [
        api_for(local_server.base_url, local_server.api_key, "eve@example.org", "eve"),
        api_for(local_server.base_url, local_server.api_key, "dr.a@example.org", uuid.uuid4().hex),
    ]
    missing = uuid.uuid4().hex
    for eve in intruders:
        seg = f"/sessions/{session_id}/restful-segment-transcription"
        attempts = [
            eve.client.get(f"/sessions/{session_id}"),
            eve.client.patch(f"/sessions/{session_id}", json={"duration": 1}),
            eve.client.post(seg),
            eve.send_chunk(session_id, recording_id, 1, short_chunks[1]),
            eve.send_chunk(session_id, recording_id, 0, short_chunks[1]),  # overwrite attempt
            eve.client.post(f"{seg}/{recording_id}:finish"),
            eve.client.post(
                f"/sessions/{session_id}/upload-audio",
                files={"file": ("a.ogg", short_chunks[1], "audio/ogg")},
            ),
            eve.client.get(f"/sessions/{session_id}/transcript"),
            eve.client.get(f"/sessions/{session_id}/transcript/live"),
        ]
        for response in attempts:
            _assert_error(response, 404, "SessionNotFoundError")
        # Exactly the answer for a session that does not exist at all.
        assert eve.client.get(f"/sessions/{missing}").json() == attempts[0].json()
        eve.client.close()
    body = api.wait_settled(session_id)
    assert [c["id"] for c in body["chunks"]] == [f"{recording_id}-0"]
    assert "duration" not in api.client.get(f"/sessions/{session_id}").json()  # never set
