"""Session lifecycle: create, read, update. Other users' sessions answer 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from server.errors import ApiError
from server.languages import LanguageUnsupported
from server.models import Session, SessionCreate, SessionCreated, SessionUpdate
from server.services import Services, ServicesDep, UserDep, owned_session

router = APIRouter(tags=["Sessions"])


def _as_session(session_id: str, stored: dict[str, Any]) -> Session:
    return Session(session_id=session_id, **stored)


def _check_transcribable(services: Services, code: str) -> None:
    """Refuse a language the model cannot transcribe now, instead of an English transcript
    of, say, German speech later. (`output_language_code` is only stored: it is the
    language of generated notes, which this server does not write.)"""
    try:
        services.transcriber.language_for(code)
    except LanguageUnsupported as error:
        raise ApiError(422, "UnsupportedLanguageError", f"language_code: {error}") from None


@router.post("/sessions", response_model=SessionCreated, summary="Create Session")
def create_session(
    services: ServicesDep, user: UserDep, body: Annotated[SessionCreate, Body()]
) -> SessionCreated:
    """The body is required (the spec's requestBody is): `{}` when there is nothing to set."""
    fields = body.model_dump(exclude_none=True)
    return SessionCreated(session_id=services.store.create_session(user.key, fields))


@router.get(
    "/sessions/{session_id}",
    response_model=Session,
    response_model_exclude_none=True,
    summary="Get Session",
)
def get_session(session_id: str, services: ServicesDep, user: UserDep) -> Session:
    return _as_session(session_id, owned_session(services, user, session_id))


@router.patch(
    "/sessions/{session_id}",
    response_model=Session,
    response_model_exclude_none=True,
    summary="Update Session",
)
def update_session(
    session_id: str, body: SessionUpdate, services: ServicesDep, user: UserDep
) -> Session:
    changes = body.model_dump(exclude_unset=True)
    owned_session(services, user, session_id)
    if changes.get("language_code"):
        _check_transcribable(services, changes["language_code"])
    if changes.get("duration") is not None:
        changes["duration"] = round(changes["duration"])
    if not services.store.update_session(user.key, session_id, changes):
        raise ApiError(404, "SessionNotFoundError", "Session not found")
    return _as_session(session_id, owned_session(services, user, session_id))
