"""Garbage answers from a real HTTP server on 127.0.0.1 become clear error types, never crashes."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from recorder.heidi.client import HeidiClient, Timeouts
from recorder.heidi.errors import (
    AuthError,
    HeidiError,
    NetworkError,
    RateLimitedError,
    RejectedError,
    ServerDownError,
)

GOOD_TOKEN = json.dumps({"token": "t", "expiration_time": "2099-01-01T00:00:00Z"}).encode()


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers /jwt properly and every other path with whatever `answer` says."""

    answer: tuple[int, dict[str, str], bytes] = (200, {}, b"{}")
    mode: str = "normal"  # normal | truncate | close
    url: str = ""  # the server's base URL (set by the fixture)

    def log_message(self, *_args: object) -> None:  # keep test output quiet
        pass

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        mode = "normal" if self.path.startswith("/api/jwt") else self.mode
        if self.path.startswith("/api/jwt"):
            status, headers, body = 200, {"Content-Type": "application/json"}, GOOD_TOKEN
        else:
            status, headers, body = self.answer
        if mode == "close":
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        declared = len(body) + (100 if mode == "truncate" else 0)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)
        if mode == "truncate":
            self.close_connection = True

    do_GET = do_POST = do_PATCH = _reply


def _client(url: str, timeouts: Timeouts) -> HeidiClient:
    return HeidiClient(
        url,
        "key",
        email="a@example.org",
        user_id="u",
        timeouts=timeouts,
        max_body_bytes=64 * 1024,
    )


@pytest.fixture
def scripted() -> Iterator[tuple[type[Scripted], HeidiClient]]:
    handler: type[Scripted] = type("Handler", (Scripted,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    # Generous: a broken answer must be told by what arrives, never by a loaded machine's delay.
    client = _client(handler.url, Timeouts(connect=30, read=30, write=30, pool=30))
    yield handler, client
    client.close()
    server.shutdown()
    server.server_close()


JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}


@pytest.mark.parametrize(
    ("answer", "mode", "error_type", "words"),
    [
        (
            (200, HTML, b"<!DOCTYPE html><html>Sign in to the proxy</html>"),
            "normal",
            ServerDownError,
            "web page",
        ),
        ((200, JSON, b'{"session_id": "abc'), "normal", ServerDownError, "not valid JSON"),
        ((200, JSON, b'{"session_id": 42}'), "normal", ServerDownError, "session_id"),
        ((200, JSON, b"[]"), "normal", ServerDownError, "not a JSON object"),
        (
            (200, JSON, b'{"session_id": "' + b"x" * 100_000 + b'"}'),
            "normal",
            ServerDownError,
            "too large",
        ),
        ((200, JSON, b'{"session_id": "abc"}'), "truncate", NetworkError, "connection broke"),
        ((200, JSON, b""), "close", NetworkError, "connection broke"),
        ((500, HTML, b"<html>Internal error</html>"), "normal", ServerDownError, "(500)"),
        (
            (502, JSON, b'{"detail": {"msg": "bad gateway", "type": "Upstream"}}'),
            "normal",
            ServerDownError,
            "bad gateway",
        ),
        ((429, {**JSON, "Retry-After": "7"}, b"{}"), "normal", RateLimitedError, "429"),
        (
            (
                404,
                JSON,
                b'{"detail": {"msg": "Session not found", "type": "SessionNotFoundError"}}',
            ),
            "normal",
            RejectedError,
            "Session not found",
        ),
        ((413, JSON, b"{}"), "normal", RejectedError, "(413)"),
        (
            (404, HTML, b"<html>Not found</html>"),
            "normal",
            RejectedError,
            "check the server address",
        ),
        (
            (302, {"Location": "https://elsewhere.test/"}, b""),
            "normal",
            RejectedError,
            "redirected",
        ),
        (
            (403, JSON, b'{"detail": {"msg": "not linked", "type": "Forbidden"}}'),
            "normal",
            AuthError,
            "not linked",
        ),
    ],
)
def test_garbage_answers_become_clear_errors(
    scripted: tuple[type[Scripted], HeidiClient],
    answer: tuple[int, dict[str, str], bytes],
    mode: str,
    error_type: type[HeidiError],
    words: str,
) -> None:
    handler, client = scripted
    handler.answer = answer
    handler.mode = mode
    with pytest.raises(error_type) as caught:
        client.create_session()
    assert words in str(caught.value)
    assert "create session" in str(caught.value)  # says which call failed
    if error_type is RateLimitedError:
        assert caught.value.retry_after == 7.0


def test_wrong_types_in_a_live_transcript(scripted: tuple[type[Scripted], HeidiClient]) -> None:
    handler, client = scripted
    handler.answer = (200, JSON, json.dumps({"chunks": [{"id": "r-0", "status": 7}]}).encode())
    with pytest.raises(ServerDownError, match="status"):
        client.live_transcript("s")


def test_a_stalled_server_times_out(scripted: tuple[type[Scripted], HeidiClient]) -> None:
    handler, _ = scripted
    stall = threading.Event()

    def slow(self: Scripted) -> None:
        stall.wait(60)  # until the client has given up, however long that took

    handler.do_POST = slow  # type: ignore[method-assign,assignment]
    impatient = _client(handler.url, Timeouts(connect=30, read=1, write=30, pool=30))
    try:
        with pytest.raises(NetworkError, match="did not answer in time"):
            impatient.create_session()
    finally:
        stall.set()
        impatient.close()
