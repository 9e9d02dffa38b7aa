"""The Heidi client against the real local server on 127.0.0.1: every call, auth, errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from recorder.heidi.client import HeidiClient
from recorder.heidi.errors import AuthError, NetworkError, RejectedError
from recorder.heidi.models import Token
from recorder.states import ServerStatus
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import consult_ogg, make_client, wait_for, words


@pytest.fixture
def client(local_server: LocalServerProcess) -> Iterator[HeidiClient]:
    with make_client(local_server.base_url, local_server.api_key) as made:
        yield made


def test_session_create_read_patch(client: HeidiClient) -> None:
    session_id = client.create_session()
    assert session_id
    client.update_session(session_id, consent_obtained=True, language_code="en", duration_s=61.4)
    info = client.get_session(session_id)
    assert info.session_id == session_id
    assert info.consent_obtained is True
    assert info.language_code == "en"
    assert info.duration_s == 61


def test_segments_upload_finish_and_transcripts(client: HeidiClient) -> None:
    session_id = client.create_session()
    recording_id = client.start_segments(session_id)
    client.transcribe_segment(session_id, recording_id, 0, consult_ogg(0, 6))
    client.transcribe_segment(session_id, recording_id, 1, consult_ogg(6, 12))

    def both_ready() -> bool:
        live = client.live_transcript(session_id)
        return len(live.chunks) == 2 and all(c.status is ServerStatus.READY for c in live.chunks)

    assert wait_for(both_ready, timeout=60, every=0.5)
    live = client.live_transcript(session_id)
    assert [c.index_in(recording_id) for c in live.chunks] == [0, 1]
    assert "morning" in words(live.chunks[0].text)
    client.finish_segments(session_id, recording_id)
    final = client.transcript(session_id)
    assert {"good", "morning", "seat"} <= set(words(final.transcript))


def test_single_file_upload_then_transcript(client: HeidiClient) -> None:
    session_id = client.create_session()
    uploaded = client.upload_audio(session_id, consult_ogg(0, 5))
    assert uploaded is not None and uploaded.audio_id  # the local server gives the record
    final = client.transcript(session_id)
    assert "morning" in words(final.transcript)


def test_wrong_api_key_is_an_auth_error(local_server: LocalServerProcess) -> None:
    with (
        make_client(local_server.base_url, "not-the-key") as bad,
        pytest.raises(AuthError) as caught,
    ):
        bad.create_session()
    assert caught.value.status in (401, 403)
    assert caught.value.exit_code == 3


def test_unknown_session_is_rejected_with_the_servers_message(client: HeidiClient) -> None:
    with pytest.raises(RejectedError) as caught:
        client.get_session("no-such-session")
    assert caught.value.status == 404
    assert caught.value.server_msg
    assert caught.value.server_msg in str(caught.value)


def test_non_audio_is_rejected_not_retried(client: HeidiClient) -> None:
    session_id = client.create_session()
    recording_id = client.start_segments(session_id)
    with pytest.raises(RejectedError) as caught:
        client.transcribe_segment(session_id, recording_id, 0, b"this is not audio at all")
    assert 400 <= (caught.value.status or 0) < 500
    assert not caught.value.retryable


def test_a_stale_token_is_refreshed_once_on_401(client: HeidiClient) -> None:
    client.create_session()
    client._token = Token("stale.invalid.token", time.time() + 3600)  # server will say 401
    session_id = client.create_session()
    assert session_id
    assert client._token is not None and client._token.token != "stale.invalid.token"


def test_token_expiry_mid_session_refreshes_without_failure(
    make_local_server: Callable[..., LocalServerProcess],
) -> None:
    server = make_local_server(jwt_ttl_s=2)
    fetched: list[float] = []

    class CountingClient(HeidiClient):
        def fetch_token(self) -> Token:
            token = super().fetch_token()
            fetched.append(token.expires_at)
            return token

    with CountingClient(
        server.base_url, server.api_key, email="a@example.org", user_id="u-9"
    ) as counting:
        session_id = counting.create_session()
        recording_id = counting.start_segments(session_id)
        # Calls go on until the client has used three 2 s tokens (each lives 2-3 s: exp is a
        # whole second), however slowly a loaded machine runs them; none of them may fail.
        give_up = time.monotonic() + 60
        while len(fetched) < 3:
            assert time.monotonic() < give_up, f"only {len(fetched)} tokens in 60 s"
            counting.get_session(session_id)
            time.sleep(0.25)
        counting.transcribe_segment(session_id, recording_id, 0, consult_ogg(0, 3))
    assert len(fetched) >= 3


def test_refused_connection_is_a_network_error() -> None:
    with (
        make_client("http://127.0.0.1:9/api", "k") as nowhere,
        pytest.raises(NetworkError, match="cannot connect"),
    ):
        nowhere.create_session()
