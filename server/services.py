"""The objects a request handler needs, and the FastAPI dependencies that hand them out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from server.auth import Authority, User
from server.config import ServerConfig
from server.errors import ApiError
from server.retention import RetentionPurger
from server.store import Store
from server.transcriber import Transcriber
from server.workers import WorkerPool

# Declared for the OpenAPI document; the header itself is checked by Authority.
bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT")
api_key_scheme = APIKeyHeader(name="Heidi-Api-Key", auto_error=False)


@dataclass
class Services:
    config: ServerConfig
    store: Store
    authority: Authority
    pool: WorkerPool
    transcriber: Transcriber
    retention: RetentionPurger


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_user(
    request: Request,
    services: Annotated[Services, Depends(get_services)],
    _declared: Annotated[Any, Security(bearer_scheme)] = None,
) -> User:
    return services.authority.verify(request.headers.get("authorization"))


ServicesDep = Annotated[Services, Depends(get_services)]
UserDep = Annotated[User, Depends(get_user)]


def owned_session(services: Services, user: User, session_id: str) -> dict[str, Any]:
    """The session, or 404 whether it does not exist or belongs to someone else."""
    session = services.store.get_session(user.key, session_id)
    if session is None:
        raise ApiError(404, "SessionNotFoundError", "Session not found")
    return session
