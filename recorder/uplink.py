"""The link from the spool to a transcription server: target, upload service, local server.

Both the `record` command and the desktop app's core use it, so "which server,
with which key" is decided in one place: `--server URL` / `--local` / settings
and HEIDI_* variables; with no Heidi account configured, the embedded local
server (the `[server]` extra) is started on loopback.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from recorder import exit_codes
from recorder.commands.gap_report import transcript_text, warn_gaps
from recorder.events import ConnectionChanged, Event, EventSink, TranscriptUpdated
from recorder.gaps import read_gaps
from recorder.heidi.errors import ConfigError
from recorder.logs import audit, url_host
from recorder.settings import (
    ENV_API_KEY,
    Settings,
    get_api_key,
    proxy_url_for_client,
    validate_api_key,
)
from recorder.spool import ChunkRow, Spool
from recorder.states import ChunkState

if TYPE_CHECKING:  # loaded when the uplink starts: httpx and tenacity are not needed before
    from recorder.heidi.client import HeidiClient
    from recorder.upload.service import UploadService

LOCAL_EMAIL = "clinician@localhost"
LOCAL_USER_ID = "local-clinician"
FINISH_WAIT_S = 1800.0  # a long consult on a slow server still finishes while we wait
OFFLINE_GRACE_S = 60.0  # offline this long after Stop: leave it queued for `resume`


@dataclass
class Target:
    """Where chunks go: Heidi's cloud (mode "heidi") or the embedded server (mode "local")."""

    mode: str
    base_url: str
    api_key: str = field(repr=False)  # never in a printed or logged Target
    email: str
    user_id: str
    ca_bundle: str | None = None
    proxy: str | None = field(default=None, repr=False)  # may hold the proxy password
    stop_server: Callable[[], None] | None = field(default=None, repr=False)

    def client(self) -> HeidiClient:
        from recorder.heidi.client import HeidiClient

        return HeidiClient(
            self.base_url,
            self.api_key,
            email=self.email,
            user_id=self.user_id,
            ca_bundle=self.ca_bundle,
            proxy=self.proxy,
        )


def start_local_target(settings: Settings, data_dir: Path) -> Target:
    """Start the embedded server on loopback (needs the `[server]` extra)."""
    try:
        from server.embedded import start_local_server
    except ImportError as error:
        remedy = (
            "use the offline build of Ambient Recorder"
            if getattr(sys, "frozen", False)
            else "install ambient-recorder[server]"
        )
        raise ConfigError(
            "No Heidi account is configured and the local transcription server is not "
            f"part of this installation ({error.name} missing): {remedy}, or set a Heidi "
            "base URL and API key in the settings."
        ) from None
    server_dir = data_dir / "local-server"
    server_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The local server keeps a session's transcript no longer than the app keeps its audio
    # (at least an hour, so a consult's session is never dropped while it is still in use).
    local = start_local_server(server_dir, retention_hours=max(settings.retention_hours, 1.0))
    return Target(
        "local",
        local.base_url,
        local.api_key,
        settings.email or LOCAL_EMAIL,
        settings.user_id or LOCAL_USER_ID,
        stop_server=local.stop,
    )


def resolve_target(
    settings: Settings,
    data_dir: Path,
    *,
    server_url: str | None = None,
    local: bool = False,
) -> Target:
    """The server to talk to; raises ConfigError (clear message) when it cannot be used."""
    if local:
        return start_local_target(settings, data_dir)
    base_url = (server_url or settings.base_url).strip()
    if not base_url:
        return start_local_target(settings, data_dir)
    api_key = get_api_key()
    if not api_key:
        raise ConfigError(
            "No Heidi API key: set it in the app's settings (stored in the OS keyring) "
            "or in the HEIDI_API_KEY environment variable."
        )
    # one put in the keyring by hand (a non-breaking space pasted with it) showed "Connected"
    # and then stopped every upload with "'ascii' codec can't encode"
    from_env = bool(os.environ.get(ENV_API_KEY))
    validate_api_key(api_key, ENV_API_KEY if from_env else "The API key stored in the OS keyring")
    return Target(
        "heidi",
        base_url,
        api_key,
        settings.email,
        settings.user_id,
        ca_bundle=settings.ca_bundle,
        proxy=proxy_url_for_client(settings.proxy_url),
    )


@contextmanager
def target_session(
    settings: Settings, data_dir: Path, *, server_url: str | None = None, local: bool = False
) -> Iterator[Target]:
    """A resolved target for one command; the embedded server (if started) stops after it."""
    target = resolve_target(settings, data_dir, server_url=server_url, local=local)
    try:
        yield target
    finally:
        if target.stop_server is not None:
            target.stop_server()


@dataclass
class Uplink:
    """A running upload service bound to one target."""

    target: Target
    service: UploadService
    spool: Spool
    offline_since: float | None = None
    last_exit_code: int | None = None  # of the last connection failure (auth vs unreachable)

    def observe(self, event: Event) -> None:
        """Track whether the server is reachable (from the service's ConnectionChanged)."""
        if isinstance(event, ConnectionChanged):
            if event.mode == "offline":
                self.offline_since = self.offline_since or time.monotonic()
                self.last_exit_code = event.exit_code
            else:
                self.offline_since = None

    def close(self) -> None:
        self.service.stop()
        if self.target.stop_server is not None:
            self.target.stop_server()

    def finish(self, recording_id: str, printer: EventSink, timeout: float = FINISH_WAIT_S) -> int:
        """After Stop: drain the queue, `:finish`, print the transcript; return an exit code."""
        self.service.request_finish(recording_id)
        grace = float(os.environ.get("AMBIENT_RECORDER_OFFLINE_GRACE_S", OFFLINE_GRACE_S))
        deadline = time.monotonic() + timeout
        done = False
        while not done and time.monotonic() < deadline:
            done = self.service.wait_until_done(recording_id, 1.0)
            offline = self.offline_since
            if offline is not None and time.monotonic() - offline > grace:
                break
            if self.service.is_blocked(recording_id):
                break  # rejected chunks: reported below at once, not after the whole timeout
        chunks = self.spool.chunks(recording_id)
        self._print_final(recording_id, getattr(printer, "final", None), chunks)
        rejected = [c for c in chunks if c.state == ChunkState.REJECTED]
        waiting = [c.index for c in chunks if c.state != ChunkState.UPLOADED]
        if rejected:
            # Rejected by the server, or unreadable here (damaged file, wrong key): say which.
            reasons = "; ".join(
                f"chunk {c.index}: {c.error or 'no reason given'}" for c in rejected
            )
            print(
                f"error: {len(rejected)} chunk(s) could not be uploaded ({reasons}); their audio "
                "is kept (see `ambient-recorder spool`).",
                file=sys.stderr,
            )
            return exit_codes.CHUNKS_REJECTED
        if not done or waiting:
            rec = self.spool.recording(recording_id)
            print(
                f"warning: recording is {rec.state.value} with {len(waiting)} chunks not yet "
                "uploaded; they stay queued: run `ambient-recorder resume` later.",
                file=sys.stderr,
            )
            return self.last_exit_code or exit_codes.SERVER_UNREACHABLE
        return exit_codes.OK

    def _print_final(self, recording_id: str, final: object, chunks: list[ChunkRow]) -> None:
        """The final transcript with each gap's marker where it fell; else the gaps on stderr.

        A recording that lost its microphone must not print as if nothing were missing.
        """
        gaps = read_gaps(self.spool, recording_id)
        if isinstance(final, TranscriptUpdated) and final.recording_id == recording_id:
            local = [c.index for c in chunks]
            text = transcript_text(final.transcript, final.chunks, gaps, local)
            print("\n--- transcript ---\n" + text + "\n---", flush=True)
            print(f"session {final.session_id}", flush=True)
            return
        warn_gaps(recording_id, gaps)  # no transcript yet (offline): still say what is missing


def open_uplink(
    spool: Spool,
    settings: Settings,
    on_event: EventSink,
    *,
    server_url: str | None = None,
    local: bool = False,
) -> Uplink:
    """Resolve the target and start the upload service draining `spool` to it."""
    from recorder.upload.service import UploadService

    target = resolve_target(settings, spool.data_dir, server_url=server_url, local=local)
    audit(
        "upload.target",
        mode=target.mode,
        host=url_host(target.base_url),
        proxy=url_host(target.proxy) if target.proxy else None,
        ca_bundle=bool(target.ca_bundle),
    )
    holder: list[Uplink] = []

    def sink(event: Event) -> None:
        if holder:
            holder[0].observe(event)
        on_event(event)

    service = UploadService(
        spool,
        target.client,
        sink,
        retention_hours=settings.retention_hours,
        mode=target.mode,
    )
    uplink = Uplink(target, service, spool)
    holder.append(uplink)
    service.start()
    return uplink
