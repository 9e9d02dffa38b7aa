"""A crash inside a request answers 500 in Heidi's shape and logs no request data."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from server.errors import QuietCrashes


def _run(app: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    asyncio.run(QuietCrashes(app)(scope, receive, send))
    return sent


def test_an_exception_before_any_answer_becomes_a_500_and_only_its_type_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def crashing(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("patient Jane Doe, born 1970")

    with caplog.at_level(logging.INFO):
        sent = _run(crashing)
    assert sent[0]["status"] == 500
    body = json.loads(sent[1]["body"])
    assert body == {"detail": {"msg": "internal server error", "type": "InternalServerError"}}
    assert "ValueError" in caplog.text and "Jane" not in caplog.text


def test_an_exception_after_the_answer_started_sends_nothing_more() -> None:
    async def half(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        raise RuntimeError("secret")

    sent = _run(half)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
