"""The spec's other operations: 501 in Heidi's error shape, left out of our OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter

from server.errors import ApiError
from server.spec_paths import UNIMPLEMENTED


async def _not_implemented() -> None:
    raise ApiError(
        501, "NotImplementedError", "this operation is not implemented by the local server"
    )


def build_router() -> APIRouter:
    router = APIRouter()
    for method, path in UNIMPLEMENTED:
        router.add_api_route(path, _not_implemented, methods=[method], include_in_schema=False)
    return router
