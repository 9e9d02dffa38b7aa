"""GET /jwt: a tenant API key plus a user's identity buys a short-lived bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Security

from server.auth import User
from server.errors import ApiError
from server.models import Jwt
from server.services import ServicesDep, api_key_scheme

router = APIRouter(tags=["Authentication"])


def _check_identity(email: str, internal_id: str) -> None:
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or not email.isprintable() or " " in email:
        raise ApiError(422, "ValidationError", "email: not a valid e-mail address")
    if not internal_id.isprintable() or not internal_id.strip():
        raise ApiError(422, "ValidationError", "third_party_internal_id: must be printable text")


@router.get("/jwt", response_model=Jwt, summary="Exchange API Key For JWT")
def get_jwt(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Query(min_length=3, max_length=254)],
    third_party_internal_id: Annotated[str, Query(min_length=1, max_length=256)],
    _declared: Annotated[Any, Security(api_key_scheme)] = None,
) -> Jwt:
    services.authority.check_api_key(request.headers.get("heidi-api-key"))
    _check_identity(email, third_party_internal_id)
    token = services.authority.issue(User(email, third_party_internal_id))
    return Jwt(token=token.token, expiration_time=token.expires_at.isoformat())
