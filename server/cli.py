"""`ambient-recorder serve` / `python -m server`: run the local server until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from server.retention import DEFAULT_RETENTION_HOURS

DEFAULT_PORT = 8080


DATA_DIR_ENV = "AMBIENT_SERVER_DATA_DIR"


def default_data_dir() -> Path:
    """$AMBIENT_SERVER_DATA_DIR, else `server/` in the app's user data folder."""
    import os

    import platformdirs

    chosen = os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_data_dir("AmbientRecorder", False)) / "server"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _retention_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of hours, or inf") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError("must be more than 0 (inf keeps sessions forever)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `serve`; shared by `python -m server` and `ambient-recorder serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="sessions, audio, keys (default: $AMBIENT_SERVER_DATA_DIR, else the user data dir)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="the key clients must send (default: $AMBIENT_SERVER_API_KEY, else generated once)",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="a CTranslate2 Whisper model folder"
    )
    parser.add_argument("--workers", type=_positive, default=1, help="transcriptions at once")
    parser.add_argument("--jwt-ttl", type=_positive, default=3600, help="token lifetime, seconds")
    parser.add_argument(
        "--max-upload-mb", type=float, default=50.0, help="largest accepted audio upload"
    )
    parser.add_argument(
        "--transcript-wait",
        type=float,
        default=600.0,
        help="seconds GET /transcript waits for pending chunks before answering 503",
    )
    parser.add_argument(
        "--retention-hours",
        type=_retention_hours,
        default=DEFAULT_RETENTION_HOURS,
        help="drop a session (transcripts, fields) this long after its last change, unless a"
        " chunk still waits to be transcribed; audio goes as soon as it is transcribed"
        f" (default: {DEFAULT_RETENTION_HOURS:g}; inf keeps sessions forever)",
    )
    parser.add_argument("--access-log", action="store_true", help="log each request line")


def run(args: argparse.Namespace) -> int:
    """Start serving; returns the exit status once stopped."""
    from server.app import create_app
    from server.config import ServerConfig
    from server.keys import API_KEY_FILE, resolve_api_key
    from server.runner import base_url, bind, is_loopback, make_server
    from server.transcriber import ModelMissing, check_model_dir

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    data_dir: Path = args.data_dir or default_data_dir()
    if args.model is not None:
        try:
            check_model_dir(args.model)
        except ModelMissing as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if args.max_upload_mb <= 0:
        print("error: --max-upload-mb must be positive", file=sys.stderr)
        return 2
    try:
        api_key, generated = resolve_api_key(data_dir, args.api_key)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = ServerConfig(
        data_dir=data_dir,
        api_key=api_key,
        host=args.host,
        port=args.port,
        model_path=args.model,
        workers=args.workers,
        jwt_ttl_s=args.jwt_ttl,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        transcript_wait_s=args.transcript_wait,
        retention_hours=args.retention_hours,
    )
    if not is_loopback(args.host):
        logging.warning("binding %s: other machines can reach this server", args.host)
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 4
    app = create_app(config)
    server = make_server(app, access_log=args.access_log)
    if generated:
        print(f"API key (generated once, kept in {data_dir / API_KEY_FILE}): {api_key}", flush=True)
    print(f"Serving the Heidi-compatible API at {base_url(sock)}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("Server stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server", description="The local Heidi-compatible transcription server."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
