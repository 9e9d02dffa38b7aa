"""AmbientCore: the one public API the desktop app uses (the CLI uses the same pieces).

It owns the spool, the uplink (upload service + target server, the embedded
local server when no Heidi account is configured) and at most one recording
session. Every method returns quickly: slow work (opening the spool, starting
the local server, waiting for uploads) runs on worker threads and is reported
through events, so the GUI thread never blocks.

Unusable settings (a damaged settings.json, a bad HEIDI_* value) are never replaced by the
defaults, which would switch the upload target to the local server: the core reports them
(ErrorOccurred where="settings", and `settings_problem`), records as usual, and uploads
nothing — chunks stay queued — until apply_settings() saves usable ones.

shutdown() may come while start() (or a reconnect) is still working: the worker notices at
its next step and stops, closing what it opened (the embedded server too); the spool is
closed only once no worker uses it.

    core = AmbientCore(on_event, data_dir=None, settings=None)
    core.start()
    core.start_recording(source, ConsultMeta(consent_obtained=True)) -> recording_id
    core.pause(); core.resume(); core.stop()
    core.retry_chunk(recording_id, index)
    core.unfinished_recordings() -> list[RecordingSummary]
    core.resume_uploads(recording_id)
    core.transcript_text(recording_id) -> str
    core.settings_problem -> str | None
    core.shutdown(wait_for_uploads_s=0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

from recorder import paths
from recorder.app_settings import check_environment, load_app_settings
from recorder.audio import InputDevice, SourceSpec, list_input_devices
from recorder.errors import RecorderError, SpoolError
from recorder.events import (
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    ConnectionChanged,
    ErrorOccurred,
    Event,
    EventSink,
    RecordingStateChanged,
    SessionStateChanged,
    TranscriptUpdated,
    describe_seconds,
)
from recorder.gaps import read_gaps
from recorder.logs import audit, url_host
from recorder.session import ConsultMeta, RecordingSession, SessionOptions
from recorder.settings import (
    NoKeyringError,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
    set_api_key,
    set_proxy_password,
    split_proxy_password,
    validate_api_key,
)
from recorder.spool import Spool
from recorder.states import ChunkState, RecordingState, SessionState
from recorder.uplink import Uplink, open_uplink

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30.0
WORKERS_WAIT_S = 10.0  # shutdown waits this long for start/reconnect to notice, then hands off
SESSION_DRAIN_S = 120.0  # Stop drains at most the ring (~30 s of audio): seconds of work
SAVE_RETRY_S = (5.0, 60.0)  # a recording stopped by a full data folder: first and longest
# wait between tries to save it (each try decodes and encodes up to a chunk of audio)
FINISHED_SESSION = frozenset({SessionState.DONE, SessionState.FAILED})

__all__ = ["AmbientCore", "ConsultMeta", "RecordingSummary"]


@dataclass(frozen=True)
class RecordingSummary:
    """A recording from before that is not done yet (interrupted, or still uploading)."""

    recording_id: str
    state: RecordingState
    created_at: float
    chunks_total: int
    chunks_uploaded: int
    duration_s: float


class AmbientCore:
    """Spool + uplink + recording session behind a non-blocking API; see the module docstring."""

    def __init__(
        self,
        on_event: EventSink,
        data_dir: str | Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        self._sink = on_event
        self._data_dir = paths.data_dir(data_dir)
        self._settings = settings
        self._settings_problem: str | None = None  # why the settings cannot be used
        self._settings_lock = threading.Lock()
        self._spool: Spool | None = None
        self._uplink: Uplink | None = None
        self._session: RecordingSession | None = None
        self._ready = threading.Event()
        self._start_asked = False  # start() was called: its worker (or start itself) sets _ready
        self._lock = threading.RLock()
        self._connection = ConnectionChanged("offline", "starting…")
        self._transcripts: dict[str, TranscriptUpdated] = {}
        self._start_error: RecorderError | None = None
        self._finish_wanted: set[str] = set()  # recordings to finish once connected
        self._flags = threading.Lock()  # guards _starting / _stop_pending; never held long
        self._starting = False
        self._stop_pending = False
        self._closing = False
        self._closed = threading.Event()  # set by shutdown(): background retries end
        self._workers = 0  # start/reconnect threads running; guarded by _lock
        self._workers_done = threading.Condition(self._lock)
        self._close_after_workers = False  # shutdown left closing to the last worker
        self._connect_lock = threading.Lock()  # one _connect at a time
        self._target_seen: tuple[str, str] | None = None  # (mode, host) uploads went to last

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the spool (recovering crashed recordings) and connect, on a worker thread."""
        self._start_asked = True
        if not self._run_worker("core-start", self._start):
            self._ready.set()

    def _run_worker(self, name: str, work: Callable[[], None]) -> bool:
        """Run `work` on a thread shutdown() knows about; False if shutting down already."""
        with self._lock:
            if self._closing:
                return False
            self._workers += 1
        threading.Thread(target=self._worker_main, args=(work,), name=name, daemon=True).start()
        return True

    def _worker_main(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as error:  # nothing may escape a thread; the user hears of it
            log.exception("core worker failed")
            if not self._closing:
                message = f"The recorder could not start or connect: {error}"
                self._emit(ErrorOccurred(message, where="core"))
        finally:
            self._ready.set()
            with self._lock:
                self._workers -= 1
                close_now = self._workers == 0 and self._close_after_workers
                self._workers_done.notify_all()
            if close_now:
                self._close_links()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> bool:
        """Block until start() has opened the spool (for tests and the CLI, not the GUI thread)."""
        return self._ready.wait(timeout)

    def _start(self) -> None:
        problem = self.settings_problem
        if problem is not None:
            self._emit(ErrorOccurred(problem, where="settings"))
        try:
            self._spool = Spool.open(self._data_dir)
            if self._spool.key_warning:
                warning = self._spool.key_warning
                self._emit(ErrorOccurred(warning, where="spool", severity="warning"))
            if not self._closing:
                self._recover()
        except RecorderError as error:
            self._start_error = error
            self._emit(ErrorOccurred(str(error), where="spool"))
            return
        finally:
            self._ready.set()
        if self._closing:
            return
        problem = self.settings_problem
        if problem is not None:  # uploads wait for usable settings (apply_settings)
            waiting = self.pending_uploads()
            self._emit(ConnectionChanged("offline", "settings need fixing", waiting, problem))
            return
        self._move_inline_proxy_password()
        self._connect()

    def _move_inline_proxy_password(self) -> None:
        """An older settings.json holding the proxy password in its URL: move the password to
        the OS keyring at start, so the file keeps no secret. Before, only a Save in the
        Settings dialog moved it, and a practice that never opened the dialog kept it in
        plain text. Without a usable keyring it stays where it is (and still works)."""
        before = _saved_or_none()
        if before is None or not before.proxy_url:
            return
        plain, password = split_proxy_password(before.proxy_url)
        if not password:
            return
        try:
            set_proxy_password(password)
        except SettingsError as error:
            log.warning("The proxy password stays in settings.json: %s", error)
            return
        after = replace(before, proxy_url=plain)
        try:
            save_settings(after)
        except (OSError, SettingsError) as error:  # the file keeps its copy: nothing lost
            log.warning("settings.json could not drop the moved proxy password: %s", error)
            return
        _audit_settings_saved(before, after, api_key_changed=False, proxy_password_changed=True)
        with self._settings_lock:
            if self._settings is not None and self._settings.proxy_url == before.proxy_url:
                self._settings.proxy_url = plain  # the client puts the keyring's back

    def _recover(self) -> None:
        """Recover crashed recordings; if that fails (disk still full), say so and go on."""
        assert self._spool is not None
        try:
            self._spool.recover_interrupted()
        except SpoolError as error:  # the journal stays on disk; the next start tries again
            self._emit(ErrorOccurred(f"A crashed recording could not be recovered yet: {error}"))

    def _connect(self) -> None:
        with self._connect_lock:
            if not self._closing:
                self._connect_now()

    def _connect_now(self) -> None:
        assert self._spool is not None
        settings = self.settings
        self._emit(ConnectionChanged("offline", "connecting…", self.pending_uploads()))
        try:
            uplink = open_uplink(self._spool, settings, self._emit)
        except RecorderError as error:
            self._emit(
                ConnectionChanged("offline", "not connected", self.pending_uploads(), str(error))
            )
            self._emit(ErrorOccurred(str(error), where="connection"))
            return
        except Exception as error:  # the local server failing to start must not kill the app
            log.exception("could not start the uplink")
            message = f"Could not start the transcription link: {error}"
            self._emit(
                ConnectionChanged("offline", "not connected", self.pending_uploads(), message)
            )
            return
        old: Uplink | None = None
        with self._lock:
            closing = self._closing
            if not closing:
                old, self._uplink = self._uplink, uplink
                wanted = list(self._finish_wanted)
        if closing:  # shutdown came while connecting: stop what was just started
            uplink.close()
            return
        if old is not None:
            old.close()
        self._audit_target(uplink.target.mode, url_host(uplink.target.base_url))
        for recording_id in wanted:
            uplink.service.request_finish(recording_id)
        detail = uplink.target.base_url if uplink.target.mode == "heidi" else "local server"
        self._emit(ConnectionChanged(uplink.target.mode, detail, self.pending_uploads()))

    def _audit_target(self, mode: str, host: str) -> None:
        """Say so when uploads now go somewhere else than before (settings changed)."""
        before, self._target_seen = self._target_seen, (mode, host)
        if before is not None and before != (mode, host):
            audit("upload.target_changed", mode=mode, host=host, was_mode=before[0], was=before[1])

    def shutdown(self, wait_for_uploads_s: float = 0.0) -> None:
        """Stop recording (flushing the last chunk), optionally wait for uploads, then stop."""
        with self._lock:  # waits for a start_recording in flight; none can begin after this
            self._closing = True
            session = self._session
        self._closed.set()
        if not self._start_asked:  # never started: a reconnect (settings saved) waiting for
            self._ready.set()  # the start would keep shutdown waiting WORKERS_WAIT_S for it
        if session is not None and session.state not in FINISHED_SESSION:
            session.stop()
        if session is not None and not session.wait(SESSION_DRAIN_S):
            # the writer is stuck (a hung device): leave the spool open for it; whatever it
            # has not committed is in the journal and recovered at the next start
            log.warning("recording writer did not finish in %.0f s", SESSION_DRAIN_S)
            return
        uplink = self._uplink
        if uplink is not None and wait_for_uploads_s > 0:
            deadline = time.monotonic() + wait_for_uploads_s
            while time.monotonic() < deadline and uplink.service.pending_count():
                time.sleep(0.2)
        with self._lock:
            if not self._workers_done.wait_for(lambda: self._workers == 0, WORKERS_WAIT_S):
                # a start stuck (a keyring prompt, a slow local server): the last worker
                # closes the links and the spool when it gets past its current step
                log.warning("core start still busy after %.0f s; it closes up", WORKERS_WAIT_S)
                self._close_after_workers = True
                return
        self._close_links()

    def _close_links(self) -> None:
        """Stop the uplink (and the embedded server), then close the spool."""
        with self._lock:
            uplink, self._uplink = self._uplink, None
        if uplink is not None:
            uplink.close()
        if self._spool is not None:
            self._spool.close()

    # -- settings --------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings in use (read on first use: call it off the GUI thread the first time).

        When they are unusable (see settings_problem) these are the values still readable,
        for recording and for the Settings dialog; nothing is uploaded with them.
        """
        with self._settings_lock:
            if self._settings is None:
                loaded = load_app_settings()
                self._settings, self._settings_problem = loaded.settings, loaded.problem
            return self._settings

    @property
    def settings_problem(self) -> str | None:
        """Why the saved settings or a HEIDI_* variable cannot be used (uploads wait), or None."""
        _ = self.settings
        return self._settings_problem

    def apply_settings(self, settings: Settings, api_key: str | None = None) -> None:
        """Save settings (the key and a proxy password go to the OS keyring) and reconnect.

        Raises SettingsError (clear message) if they cannot be saved or a HEIDI_* variable
        is unusable (then nothing is saved); the reconnect runs on a worker thread and
        reports through ConnectionChanged. Saving usable settings ends a settings problem:
        the queued chunks upload.
        """
        settings.validate()
        if api_key:  # one that cannot go into an HTTP header would fail every upload later
            validate_api_key(api_key, where="The new API key")
        plain_proxy, proxy_password = split_proxy_password(settings.proxy_url)
        effective = check_environment(replace(settings))
        before = _saved_or_none()
        if api_key:
            set_api_key(api_key)
        proxy_removed = not settings.proxy_url and (before is None or bool(before.proxy_url))
        if proxy_password or proxy_removed:
            try:  # a password in the proxy URL goes to the keyring; no proxy: none is kept
                set_proxy_password(proxy_password)
            except NoKeyringError:
                # an older file's inline password saved again unchanged keeps working as is
                if before is None or before.proxy_url != settings.proxy_url:
                    raise
                plain_proxy = settings.proxy_url
                log.warning("No keyring: the proxy password stays in settings.json")
        moved = plain_proxy != settings.proxy_url  # the password went into the keyring
        settings.proxy_url = effective.proxy_url = plain_proxy
        save_settings(settings)
        _audit_settings_saved(
            before, settings, api_key_changed=bool(api_key), proxy_password_changed=moved
        )
        with self._settings_lock:
            self._settings, self._settings_problem = effective, None
        self._run_worker("core-reconnect", self._reconnect)

    def remember_choices(self, *, input_device: str | None, language_code: str) -> None:
        """Save the microphone and language picked for next time, without reconnecting.

        Disk work: call it off the GUI thread. Only the saved file's own values change
        (HEIDI_* overrides in the environment are never written into it).
        """
        saved = load_settings()
        if saved.input_device == input_device and saved.language_code == language_code:
            return
        before = replace(saved)
        saved.input_device = input_device
        saved.language_code = language_code
        save_settings(saved)
        _audit_settings_saved(before, saved, api_key_changed=False)
        current = self.settings
        current.input_device = input_device
        current.language_code = language_code

    def _reconnect(self) -> None:
        if not self._ready.wait(READY_TIMEOUT_S) or self._spool is None or self._closing:
            return
        with self._connect_lock:
            with self._lock:
                old, self._uplink = self._uplink, None
            if old is not None:
                old.close()
            if not self._closing:
                self._connect_now()

    # -- recording -------------------------------------------------------------------------

    def list_devices(self) -> list[InputDevice]:
        return list_input_devices()

    @property
    def state(self) -> SessionState:
        session = self._session
        return session.state if session is not None else SessionState.IDLE

    def start_recording(self, source: SourceSpec, meta: ConsultMeta) -> str:
        """Open the input and start a recording; raises RecorderError with a clear message."""
        with self._flags:
            self._starting = True
            self._stop_pending = False
        try:
            session = self._start_session(source, meta)
        finally:
            with self._flags:
                self._starting = False
                stop_now, self._stop_pending = self._stop_pending, False
        if stop_now:  # Stop was pressed while the input was still opening
            session.stop()
        assert session.recording_id is not None
        return session.recording_id

    def _start_session(self, source: SourceSpec, meta: ConsultMeta) -> RecordingSession:
        if self.settings.require_consent and not meta.consent_obtained:
            raise RecorderError("Tick the consent box before recording: consent is required.")
        if not self._ready.wait(READY_TIMEOUT_S) or self._spool is None:
            raise self._start_error or RecorderError("The recorder is still starting; try again.")
        with self._lock:  # shutdown() waits on this lock for a start in flight
            if self._closing:
                raise RecorderError("The recorder is shutting down.")
            if self._session is not None and self._session.state not in FINISHED_SESSION:
                raise RecorderError("A recording is already in progress.")
            options = SessionOptions(
                chunk_min_s=self.settings.chunk_min_s,
                chunk_max_s=self.settings.chunk_max_s,
                reconnect_limit_s=self.settings.reconnect_minutes * 60.0,
            )
            session = RecordingSession(
                self._spool, source, meta, self._emit, options=options, on_chunk=self._chunk_ready
            )
            session.start()
            self._session = session
        return session

    def pause(self) -> None:
        if self._session is not None:
            self._session.pause()

    def resume(self) -> None:
        if self._session is not None:
            self._session.resume()

    def stop(self) -> None:
        """Stop capture; the session flushes the last chunk, then uploads drain and finish.

        Never blocks: a Stop that arrives while the input is still opening is remembered.
        """
        with self._flags:
            if self._starting:
                self._stop_pending = True
                return
        if self._session is not None:
            self._session.stop()

    def _chunk_ready(self, _row: object) -> None:
        uplink = self._uplink
        if uplink is not None:
            uplink.service.wake()

    # -- uploads and transcript ----------------------------------------------------------

    def retry_chunk(self, recording_id: str, index: int) -> None:
        """Send a rejected (or backing-off) chunk again: now, or as soon as connected."""
        uplink = self._uplink
        if uplink is not None:
            uplink.service.retry_chunk(recording_id, index)
            return
        if self._spool is None:
            raise RecorderError("The recorder is still starting; try again.")
        self._spool.set_chunk_state(
            recording_id, index, ChunkState.QUEUED, attempts=0, next_attempt_at=None, error=None
        )
        self._emit(ChunkStateChanged(recording_id, index, ChunkState.QUEUED))

    def unfinished_recordings(self) -> list[RecordingSummary]:
        """Recordings from before that still have work (crashed, or not fully uploaded)."""
        if not self._ready.wait(READY_TIMEOUT_S) or self._spool is None:
            return []
        session = self._session
        recording_now = session is not None and session.state not in FINISHED_SESSION
        current = session.recording_id if session is not None and recording_now else None
        out = []
        for rec in self._spool.recordings():
            if rec.state is RecordingState.DONE or rec.recording_id == current:
                continue
            if rec.state is RecordingState.RECORDING:
                continue  # being written by another process right now
            chunks = self._spool.chunks(rec.recording_id)
            uploaded = sum(1 for c in chunks if c.state is ChunkState.UPLOADED)
            out.append(
                RecordingSummary(
                    rec.recording_id,
                    rec.state,
                    rec.created_at,
                    len(chunks),
                    uploaded,
                    rec.duration_s,
                )
            )
        return out

    def resume_uploads(self, recording_id: str) -> None:
        """Upload what is left of a recording from before, then finish it (once connected).

        What the spool holds of it is reported first, so a window showing it knows its chunks
        and gaps even while offline: ChunkRecorded for each chunk, ChunkStateChanged for those
        uploaded or rejected (states the upload queue moves on from by itself are left to its
        own, newer events), and each gap (microphone lost) as an AudioGap, for the transcript
        to mark where it fell.
        """
        if self._spool is not None:
            self._report_stored(self._spool, recording_id)
        self._finish_when_connected(recording_id)

    def _report_stored(self, spool: Spool, recording_id: str) -> None:
        try:
            chunks = spool.chunks(recording_id)
        except RecorderError as error:
            self._emit(ErrorOccurred(str(error), where="spool"))
            return
        for chunk in chunks:
            self._emit(ChunkRecorded(recording_id, chunk.index, chunk.duration_s, chunk.size_bytes))
            if chunk.state in (ChunkState.UPLOADED, ChunkState.REJECTED):
                self._emit(
                    ChunkStateChanged(
                        recording_id, chunk.index, chunk.state, chunk.attempts, error=chunk.error
                    )
                )
        for gap in read_gaps(spool, recording_id):
            self._emit(gap)

    def _save_when_writable(self, recording_id: str) -> None:
        """Save a recording stopped by a full (or unwritable) data folder once it can be written.

        Its audio so far waits in its journal, which only the next start's recovery turned
        into chunks: until the app was restarted the consult's audio was neither uploaded nor
        transcribed, and nothing told the clinician to restart. Tried after 5 s, then less
        often (up to every minute) until it works or the core shuts down; then its chunks are
        reported, upload and finish.
        """
        wait_s, longest_s = SAVE_RETRY_S
        while not self._closed.wait(wait_s):
            wait_s = min(longest_s, wait_s * 2)
            spool = self._spool
            if spool is None:
                return
            try:
                spool.recover_interrupted()
            except RecorderError as error:  # still full; or another recording's journal
                log.info("recording %s not saved yet: %s", recording_id, error)
            try:
                recording = spool.recording(recording_id)
            except RecorderError as error:
                log.warning("recording %s: %s", recording_id, error)
                return
            if recording.state is RecordingState.RECORDING:
                continue
            self._report_stored(spool, recording_id)
            self._emit(RecordingStateChanged(recording_id, recording.state))
            chunks = spool.chunks(recording_id)
            if chunks:  # none: its folder was gone (the error said so), nothing was saved
                saved = _saved_text(recording.duration_s, len(chunks))
                self._emit(CaptureProblem("disk_back", saved))
            self._finish_when_connected(recording_id)
            uplink = self._uplink
            if uplink is not None:
                uplink.service.wake()
            return

    def _finish_when_connected(self, recording_id: str) -> None:
        with self._lock:
            self._finish_wanted.add(recording_id)
            uplink = self._uplink
        if uplink is not None:
            uplink.service.request_finish(recording_id)

    def transcript_text(self, recording_id: str) -> str:
        """The transcript so far: READY chunks in index order (the final one once done)."""
        update = self._transcripts.get(recording_id)
        return update.transcript if update is not None else ""

    @property
    def connection(self) -> ConnectionChanged:
        return self._connection

    def pending_uploads(self) -> int:
        """Chunks still to upload, across recordings (0 until the spool is open)."""
        return self._spool.waiting_chunk_count() if self._spool is not None else 0

    # -- events ----------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        """Keep what the core needs to answer queries, act on session ends, then pass it on."""
        if isinstance(event, ConnectionChanged):
            self._connection = event
        elif isinstance(event, TranscriptUpdated):
            self._transcripts[event.recording_id] = event
        elif (
            isinstance(event, SessionStateChanged)
            and event.state in FINISHED_SESSION
            and event.recording_id
        ):
            self._finish_when_connected(event.recording_id)
            session = self._session
            if (
                event.state is SessionState.FAILED
                and session is not None
                and session.recording_id == event.recording_id
                and isinstance(session.failure, SpoolError)
            ):
                rid = event.recording_id
                self._run_worker("core-save-kept", lambda: self._save_when_writable(rid))
        try:
            self._sink(event)
        except Exception:  # a broken consumer must not stop recording or uploading
            log.exception("event consumer failed")


def _saved_text(duration_s: float, chunks: int) -> str:
    """What the clinician reads once a recording stopped by a full data folder is saved."""
    saved = f"{chunks} chunk" if chunks == 1 else f"{chunks} chunks"
    return (
        f"The data folder can be written to again: the recording it stopped "
        f"({describe_seconds(duration_s)}) is saved as {saved} and uploads now. "
        "Press Record to go on with the consult."
    )


def _saved_or_none() -> Settings | None:
    """The settings file as it is before a save (None if unreadable: every field then counts)."""
    try:
        return load_settings()
    except RecorderError:
        return None


def _audit_settings_saved(
    before: Settings | None,
    after: Settings,
    *,
    api_key_changed: bool,
    proxy_password_changed: bool = False,
) -> None:
    """`settings.saved` with the names of the fields that changed, never their values."""
    names = [
        f.name
        for f in fields(Settings)
        if before is None or getattr(before, f.name) != getattr(after, f.name)
    ]
    if api_key_changed:
        names.append("api_key")
    if proxy_password_changed:
        names.append("proxy_password")
    audit("settings.saved", changed=",".join(names) or None)
