"""Running the app on uvicorn: on a socket we bind ourselves, so port 0 works and is known."""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import threading
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI

from server import API_PREFIX
from server.errors import QuietCrashes

# An idle keep-alive connection is left for the client to close: a server closing it just as
# the client sends its next request on it resets that request. uvicorn's default (5 s) equals
# httpx's keep-alive expiry, so a request sent after ~5 s idle could fail now and then.
KEEP_ALIVE_S = 75


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; connections queue from here on, before uvicorn serves."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API_PREFIX}"


class QuietExitServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown (exit status -15 / 130);
    we want the command to finish normally with status 0 instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def make_server(
    app: FastAPI, *, access_log: bool = False, log_level: str = "info"
) -> QuietExitServer:
    """A uvicorn server; embedded in the app or `record --local` it logs warnings only."""
    config = uvicorn.Config(
        QuietCrashes(app),
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_S,
        server_header=False,
    )
    return QuietExitServer(config)
