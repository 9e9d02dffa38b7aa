"""The FastAPI application: routes under Heidi's base path, limits, errors, the worker pool."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server import API_PREFIX
from server.auth import Authority
from server.config import ServerConfig
from server.errors import install_error_handlers
from server.keys import jwt_secret
from server.limits import BodyLimit
from server.models import ErrorBody, Health
from server.retention import RetentionPurger
from server.routes import auth, sessions, transcription, unimplemented
from server.services import Services
from server.store import Store
from server.transcriber import Transcriber, default_model_path
from server.workers import WorkerPool

log = logging.getLogger("server")

_ERRORS = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (401, "Missing, invalid or expired credentials"),
        (404, "Unknown session or recording"),
        (413, "Body too large"),
        (415, "Not multipart / not audio"),
        (422, "Invalid input"),
    )
}


def build_services(config: ServerConfig, clock: Callable[[], float] = time.time) -> Services:
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(config.db_path, clock)
    transcriber = Transcriber(config.model_path or default_model_path(), workers=config.workers)
    pool = WorkerPool(store, transcriber, config.audio_dir, workers=config.workers)
    authority = Authority(config.api_key, jwt_secret(config.data_dir), config.jwt_ttl_s)
    retention = RetentionPurger(
        store,
        config.audio_dir,
        config.retention_hours,
        interval_s=config.purge_interval_s,
        clock=clock,
    )
    return Services(
        config=config,
        store=store,
        authority=authority,
        pool=pool,
        transcriber=transcriber,
        retention=retention,
    )


def create_app(config: ServerConfig, clock: Callable[[], float] = time.time) -> FastAPI:
    """An app serving `config`; the worker pool and the retention purge run while the app's
    lifespan does. `clock` (seconds) drives retention; tests pass one they can move."""
    services = build_services(config, clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.pool.start()
        services.retention.start()
        try:
            yield
        finally:
            services.retention.stop()
            services.pool.stop()
            services.store.close()

    app = FastAPI(
        title="Ambient Recorder local transcription server",
        version="1.0",
        summary="The Heidi Health transcription API, implemented locally with faster-whisper.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit, upload_limit=config.max_upload_bytes, other_limit=config.max_json_bytes
    )

    @app.get("/healthz", response_model=Health, tags=["Health"], summary="Liveness")
    def healthz() -> Health:
        return Health(status="ok")

    # The 501 routes first: their literal paths (e.g. /sessions/linked-user) must win.
    app.include_router(unimplemented.build_router(), prefix=API_PREFIX)
    for group in (auth.router, sessions.router, transcription.router):
        app.include_router(group, prefix=API_PREFIX, responses=_ERRORS)  # type: ignore[arg-type]
    return app
