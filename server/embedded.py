"""The server inside another process (the desktop app, `record --local`): uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from server.app import create_app
from server.config import DEFAULT_MAX_UPLOAD_BYTES, ServerConfig
from server.keys import resolve_api_key
from server.retention import DEFAULT_PURGE_INTERVAL_S, DEFAULT_RETENTION_HOURS
from server.runner import QuietExitServer, base_url, bind, make_server

START_TIMEOUT_S = 30.0


@dataclass
class LocalServer:
    """A running embedded server. `base_url` includes the Heidi API prefix."""

    base_url: str
    api_key: str
    data_dir: Path
    port: int
    _server: QuietExitServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; chunks not yet transcribed stay queued for the next start."""
        self._server.should_exit = True
        self._thread.join(timeout)


def start_local_server(
    data_dir: Path,
    *,
    port: int = 0,
    api_key: str | None = None,
    jwt_ttl_s: int = 3600,
    model_path: Path | None = None,
    workers: int = 1,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    retention_hours: float = DEFAULT_RETENTION_HOURS,
    purge_interval_s: float = DEFAULT_PURGE_INTERVAL_S,
    clock: Callable[[], float] = time.time,
) -> LocalServer:
    """Serve on 127.0.0.1 (a free port by default) from a background thread; returns once up.

    Sessions idle for `retention_hours` are dropped (inf: never), checked every
    `purge_interval_s`; `clock` is the time retention goes by (tests move it).

    Raises OSError when the port cannot be bound, RuntimeError when the server does not start.
    The model loads in the background; the first chunk waits for it.
    """
    if not retention_hours > 0:
        raise ValueError("retention_hours must be positive (inf keeps sessions forever)")
    key, _generated = resolve_api_key(data_dir, api_key)
    sock = bind("127.0.0.1", port)
    actual_port = int(sock.getsockname()[1])
    config = ServerConfig(
        data_dir=data_dir,
        api_key=key,
        port=actual_port,
        model_path=model_path,
        workers=workers,
        jwt_ttl_s=jwt_ttl_s,
        max_upload_bytes=max_upload_bytes,
        retention_hours=retention_hours,
        purge_interval_s=purge_interval_s,
    )
    server = make_server(create_app(config, clock), log_level="warning")
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="local-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the local transcription server did not start")
        time.sleep(0.02)
    return LocalServer(base_url(sock), key, data_dir, actual_port, server, thread)
