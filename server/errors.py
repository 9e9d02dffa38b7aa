"""Heidi's error shape, `{"detail": {"msg", "type"}}`, for every error the server returns."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("server.errors")

_STATUS_TYPES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaTypeError",
    422: "ValidationError",
    501: "NotImplementedError",
}


class ApiError(Exception):
    """Raised by handlers; becomes a JSON error in Heidi's shape."""

    def __init__(
        self, status: int, type_: str, msg: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(msg)
        self.status = status
        self.type = type_
        self.msg = msg
        self.headers = headers


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in, as soon as it passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


def error_response(
    status: int, type_: str, msg: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"detail": {"msg": msg, "type": type_}}, status_code=status, headers=headers
    )


def _describe_validation(exc: RequestValidationError) -> str:
    """Where and what, never the submitted value (it may hold patient data)."""
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{loc}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Every error path (ours, validation, routing, crashes) answers in the same shape."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.type, exc.msg, exc.headers)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, BodyTooLarge):
            return error_response(413, "PayloadTooLargeError", str(exc.detail))
        msg = exc.detail if isinstance(exc.detail, str) else "request failed"
        type_ = _STATUS_TYPES.get(exc.status_code, "HTTPError")
        return error_response(exc.status_code, type_, msg, exc.headers)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "ValidationError", _describe_validation(exc))

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(500, "InternalServerError", "internal server error")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_crash)


class QuietCrashes:
    """Outermost ASGI wrapper: an unhandled exception is logged by type only.

    Starlette re-raises after answering 500, and uvicorn would then log the exception's
    message and traceback — which may quote request data (patient data must stay out of
    logs). The client has already had its 500 in Heidi's shape; if not, it gets one here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            log.error("request failed with %s", type(error).__name__)
            if scope["type"] == "http" and not started:
                response = error_response(500, "InternalServerError", "internal server error")
                await response(scope, receive, send)
