"""Request body limits, enforced while the body streams in (never after buffering it)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import BodyTooLarge

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small form fields
DRAIN_FACTOR = 4  # read (and drop) an oversize body up to 4x the limit before answering


class BodyLimit:
    """ASGI middleware: 413 at once for a too-large Content-Length, else when the count passes.

    Multipart bodies (audio uploads) get `upload_limit` (+ form overhead), others `other_limit`.
    The excess is read and dropped (never stored) up to DRAIN_FACTOR x the limit before the
    413 goes out: a client still sending would otherwise see a connection reset, take it for
    a network fault and retry forever, instead of learning that the chunk is too large.
    """

    def __init__(self, app: ASGIApp, upload_limit: int, other_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit + MULTIPART_OVERHEAD
        self.other_limit = other_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").lower()
        limit = self.upload_limit if content_type.startswith(b"multipart/") else self.other_limit
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if declared.isdigit() and int(declared) <= limit * DRAIN_FACTOR:
                await _drain(receive, limit * DRAIN_FACTOR)
            await _reject(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await _drain(receive, limit * DRAIN_FACTOR - received)
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of the body, at most `budget` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _reject(send: Send, limit: int) -> None:
    body = (
        b'{"detail":{"msg":"request body larger than %d bytes","type":"PayloadTooLargeError"}}'
        % limit
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
