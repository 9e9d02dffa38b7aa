"""`ambient-recorder serve`: run the local Heidi-compatible transcription server.

The server is an optional extra; it is imported only when this command runs.
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from recorder.errors import RecorderError

INSTALL_HINT = "the server extra is not installed: pip install ambient-recorder[server]"
_REQUIRED = ("fastapi", "uvicorn", "faster_whisper", "jwt", "multipart")


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the local transcription server (no Heidi account needed)",
        description="Serve the Heidi transcription API locally with faster-whisper. "
        "Prints the base URL; stops cleanly on Ctrl-C or SIGTERM.",
    )
    try:
        from server.cli import add_arguments
    except ImportError:  # the server package itself is absent: keep the command, say why on run
        parser.set_defaults(run=run)
        return
    add_arguments(parser)
    parser.set_defaults(run=run)


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def run(args: argparse.Namespace) -> int:
    if not all(_installed(name) for name in (*_REQUIRED, "server")):
        raise RecorderError(INSTALL_HINT)
    from server.cli import run as run_server

    return run_server(args)
