"""The upload queue: one background thread that drains the spool to the Heidi API.

Per recording it creates a Heidi session and one segment `recording_id`
(stored in the spool so a restart reuses them), sends chunks strictly in
index order, retries what is worth retrying with persisted full-jitter
backoff, marks other 4xx REJECTED (audio kept), and once capture has ended
and every chunk is up, calls `:finish`, fetches the final transcript and
marks the recording DONE. It never deletes audio except in `purge_expired`,
after upload AND the retention period.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from recorder.errors import DecryptionError, RecorderError
from recorder.events import (
    ChunkStateChanged,
    ErrorOccurred,
    EventSink,
    RecordingStateChanged,
)
from recorder.heidi.client import HeidiClient
from recorder.heidi.errors import AuthError, ConfigError, HeidiError, RejectedError
from recorder.heidi.retry import Backoff
from recorder.logs import audit, url_host
from recorder.spool import ChunkRow, ChunkUnreadableError, NotFoundError, RecordingRow, Spool
from recorder.states import ChunkState, RecordingState, ServerStatus
from recorder.transcript import TranscriptPoller
from recorder.upload.connection import ConnectionTracker
from recorder.upload.plan import Action, Step, next_step
from recorder.upload.retention import purge_expired

log = logging.getLogger(__name__)

IDLE_WAIT_S = 30.0  # re-scan the spool at least this often even without a wake()
PURGE_EVERY_S = 600.0
MAX_SESSION_RESTARTS = 3  # per recording and process: a server that keeps losing it is refused


class _SessionGone(Exception):
    """Internal: the server confirmed (404) that it lost the recording's session."""


class UploadService:
    """Drains the spool to the server in a background thread; see the module docstring."""

    def __init__(
        self,
        spool: Spool,
        client_factory: Callable[[], HeidiClient],
        on_event: EventSink,
        *,
        retention_hours: float = 24.0,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        mode: str = "heidi",
        live_transcript: bool = True,
        poll_fast_s: float = 2.0,
        poll_slow_s: float = 15.0,
    ) -> None:
        self._spool = spool
        self._client_factory = client_factory
        self._emit = on_event
        self._retention_s = retention_hours * 3600.0
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._mode = mode
        self._live = live_transcript
        self._poll_fast_s = poll_fast_s
        self._poll_slow_s = poll_slow_s
        self._client: HeidiClient | None = None
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._skip_rejected: set[str] = set()
        self._remote_retry: dict[str, tuple[int, float]] = {}  # rid -> (failures, next time)
        self._pollers: dict[str, TranscriptPoller] = {}
        self._connection = ConnectionTracker(
            on_event, mode, self._describe_target, self.pending_count
        )
        self._last_purge = 0.0
        self._last_problem: str | None = None
        self._restarts: dict[str, int] = {}

    # ---- public API ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="upload-queue", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and live pollers; whatever is not uploaded stays queued in the spool."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        for poller in list(self._pollers.values()):
            poller.stop(timeout=2.0)
        self._pollers.clear()
        if self._client is not None:
            self._client.close()  # also ends a request still hanging in the thread
            self._client = None
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(2.0)  # let it leave the spool before the caller closes it

    def wake(self) -> None:
        """A chunk was committed (or something changed): look at the spool now."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def retry_chunk(self, recording_id: str, index: int) -> None:
        """The user asks to send a REJECTED (or backing-off) chunk again, now; or one the
        server took but could not transcribe (FAILED): it is uploaded again under its index,
        which replaces it on the server. (That Retry used to do nothing at all.)"""
        state = self._spool.recording(recording_id).state
        chunk = self._spool.chunk(recording_id, index)
        failed = chunk.server_status == ServerStatus.FAILED.value
        if state in (RecordingState.FINISHED, RecordingState.DONE):
            if failed:
                raise RecorderError(
                    f"This recording is already finished: the server could not transcribe "
                    f"chunk {index + 1} and takes no more audio for it. Its audio is kept and "
                    "can be exported."
                )
            raise RecorderError(
                "This recording was already finished without that chunk; its audio is kept "
                "and can be exported, but it can no longer be added to the transcript."
            )
        if chunk.state is ChunkState.UPLOADED and not failed:
            return
        if failed:
            self._spool.set_chunk_server_status(recording_id, index, None)
        self._spool.set_chunk_state(
            recording_id, index, ChunkState.QUEUED, attempts=0, next_attempt_at=None, error=None
        )
        self._emit(ChunkStateChanged(recording_id, index, ChunkState.QUEUED))
        self.wake()

    def request_finish(self, recording_id: str, *, skip_rejected: bool = False) -> None:
        """Capture ended: once every chunk is uploaded, call :finish and fetch the final transcript.

        Every recording whose capture has ended (RECORDED or INTERRUPTED) is finished anyway;
        this wakes the queue now. One still RECORDING is never finished (a crash or full disk
        leaves it so until its journal is recovered). With `skip_rejected`, rejected chunks no
        longer hold the finish back (the user accepted the gap; their audio is still kept).
        """
        if skip_rejected:
            with self._cond:
                self._skip_rejected.add(recording_id)
        self.wake()

    def pending_count(self) -> int:
        """Chunks not yet uploaded (queued, uploading or retrying) in unfinished recordings."""
        return self._spool.waiting_chunk_count()

    def wait_until_done(self, recording_id: str, timeout: float) -> bool:
        """Block until the recording is DONE (final transcript fetched) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._spool.recording(recording_id).state is RecordingState.DONE:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))

    def is_blocked(self, recording_id: str) -> bool:
        """True when only the user can move the recording on: every chunk is settled but some
        were rejected (retry them, or finish without them)."""
        rec = self._spool.recording(recording_id)
        with self._cond:
            skip = recording_id in self._skip_rejected
        step = next_step(
            rec.state, self._spool.chunks(recording_id), self._clock(), skip_rejected=skip
        )
        return step.action is Action.BLOCKED

    def purge_expired(self) -> int:
        """Delete audio of uploaded chunks of DONE recordings older than the retention period."""
        return purge_expired(self._spool, self._retention_s, self._clock())

    # ---- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            try:
                wait_until = self._work_once()
            except Exception as error:  # a spool or programming error: report, back off, go on
                if self._stopping:  # stop() gave up waiting and closed the client/spool under us
                    log.info("upload queue step ended by stop: %s", type(error).__name__)
                    break
                log.exception("upload queue step failed")
                message = f"Upload queue problem: {error}"
                if message != self._last_problem:
                    self._last_problem = message
                    self._emit(ErrorOccurred(message=message, where="upload_queue"))
                wait_until = self._clock() + 5.0
            else:
                self._last_problem = None
            self._maybe_purge()
            self._sleep_until(wait_until)
        log.info("upload queue stopped")

    def _sleep_until(self, wait_until: float | None) -> None:
        with self._cond:
            if self._stopping or self._woken:
                self._woken = False
                return
            delay = IDLE_WAIT_S if wait_until is None else wait_until - self._clock()
            if delay > 0:
                self._cond.wait(min(delay, IDLE_WAIT_S))
            self._woken = False

    def _maybe_purge(self) -> None:
        now = self._clock()
        if now - self._last_purge < PURGE_EVERY_S:
            return
        self._last_purge = now
        try:
            self.purge_expired()
        except Exception as error:
            log.warning("retention purge failed: %s", type(error).__name__)

    def _work_once(self) -> float | None:
        """Do the first due action over all recordings; return when to look again (None: idle)."""
        earliest: float | None = None
        for rec in self._spool.recordings():
            if self._stopping:
                return None
            rid = rec.recording_id
            if rec.state is RecordingState.DONE:
                self._stop_poller(rid)
                continue
            chunks = self._spool.chunks(rid)
            with self._cond:
                step = next_step(
                    rec.state,
                    chunks,
                    self._clock(),
                    skip_rejected=rid in self._skip_rejected,
                )
            if step.action is Action.IDLE:
                continue
            if step.action is Action.BLOCKED:
                continue
            if step.action is Action.WAIT:
                earliest = _min(earliest, step.at)
                continue
            remote_wait = self._remote_backoff_until(rid)
            if remote_wait is not None:
                earliest = _min(earliest, remote_wait)
                continue
            self._act(rec, chunks, step)
            return self._clock()  # did something: look again right away
        return earliest

    def _act(self, rec: RecordingRow, chunks: Sequence[ChunkRow], step: Step) -> None:
        rid: str = rec.recording_id
        try:
            client = self._get_client()
            if step.action is Action.FINISH and not chunks:
                self._finish_empty(rec)
                return
            session_id, remote_id = self._ensure_remote(client, rec)
            self._ensure_poller(client, rec, session_id, remote_id)
            if step.action is Action.UPLOAD:
                assert step.index is not None
                chunk = next(c for c in chunks if c.index == step.index)
                if not self._upload(client, rid, session_id, remote_id, chunk):
                    return  # no answer (retrying): still offline, not "connected" again
            elif step.action is Action.FINISH:
                duration = sum(float(c.duration_s) for c in chunks)
                try:
                    client.update_session(session_id, duration_s=duration)
                    client.finish_segments(session_id, remote_id)
                except RejectedError as error:
                    if error.status == 404 and self._session_gone(client, rid, session_id):
                        raise _SessionGone from error
                    raise
                self._set_recording_state(rid, RecordingState.FINISHED)
                audit(
                    "recording.finished",
                    recording=rid,
                    chunks=len(chunks),
                    duration_s=duration,
                    host=url_host(client.base_url),
                )
                self._fetch_final(client, rid, session_id, remote_id)
            elif step.action is Action.FINAL:
                try:
                    self._fetch_final(client, rid, session_id, remote_id)
                except RejectedError as error:  # e.g. the server purged it while we were away
                    if error.status == 404 and self._session_gone(client, rid, session_id):
                        raise _SessionGone from error
                    raise
            self._remote_retry.pop(rid, None)
            self._connection.ok()
        except _SessionGone:
            try:
                self._restart_remote(self._get_client(), rec)
            except HeidiError as error:
                self._recording_level_failure(rid, step, error)
        except HeidiError as error:
            self._recording_level_failure(rid, step, error)

    # ---- pieces ----------------------------------------------------------------------------

    def _get_client(self) -> HeidiClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _ensure_remote(self, client: HeidiClient, rec: RecordingRow) -> tuple[str, str]:
        """The Heidi session and segment recording of this recording, created once and stored."""
        rid: str = rec.recording_id
        session_id: str | None = rec.session_id
        remote_id: str | None = rec.remote_recording_id
        if not session_id:
            # Stored only once consent/language are set, so a failed PATCH is retried with a
            # fresh session (at worst an empty session is left behind on the server).
            session_id = self._new_session(client, rec)
            self._spool.set_recording_remote(rid, session_id=session_id)
        if not remote_id:
            remote_id = client.start_segments(session_id)
            self._spool.set_recording_remote(rid, remote_recording_id=remote_id)
        return session_id, remote_id

    @staticmethod
    def _new_session(client: HeidiClient, rec: RecordingRow) -> str:
        """A new Heidi session with the recording's consent and language set."""
        meta: Mapping[str, Any] = rec.meta or {}
        session_id = client.create_session()
        consent = meta.get("consent_obtained")
        language = meta.get("language_code")
        client.update_session(
            session_id,
            consent_obtained=consent if isinstance(consent, bool) else None,
            language_code=language if isinstance(language, str) else None,
        )
        return session_id

    def _session_gone(self, client: HeidiClient, rid: str, session_id: str) -> bool:
        """True when the server confirms it no longer knows the session (404 on reading it)."""
        if self._restarts.get(rid, 0) >= MAX_SESSION_RESTARTS:
            return False
        try:
            client.get_session(session_id)
        except RejectedError as error:
            return error.status == 404
        except HeidiError:
            return False
        return False

    def _restart_remote(self, client: HeidiClient, rec: RecordingRow) -> None:
        """The server lost the session (reset, or another server now): send it all again."""
        rid = rec.recording_id
        self._stop_poller(rid)
        if rec.state is RecordingState.FINISHED:  # :finish went to the lost session: redo it
            self._set_recording_state(rid, RecordingState.RECORDED)
        session_id = self._new_session(client, rec)
        remote_id = client.start_segments(session_id)
        self._spool.set_recording_remote(rid, session_id=session_id, remote_recording_id=remote_id)
        self._restarts[rid] = self._restarts.get(rid, 0) + 1
        for chunk in self._spool.chunks(rid):
            if chunk.state in (ChunkState.UPLOADED, ChunkState.UPLOADING):
                self._spool.set_chunk_state(rid, chunk.index, ChunkState.QUEUED)
                self._emit(ChunkStateChanged(rid, chunk.index, ChunkState.QUEUED))
        log.warning("server lost the session of a recording; re-uploading it to a new session")
        self._emit(
            ErrorOccurred(
                message="The server no longer knows this recording's session (it was reset, or "
                "the server changed): all its audio is being sent again to a new session.",
                where="upload",
                extra={"recording_id": rid},
            )
        )

    def _upload(
        self, client: HeidiClient, rid: str, session_id: str, remote_id: str, chunk: ChunkRow
    ) -> bool:
        """Send one chunk; False when it will be tried again (the server did not take it and
        did not refuse it: unreachable, busy, sign-in). Each failed try used to be followed by
        "connected", so through an outage the app said Connected and its error was "Earlier"."""
        index: int = chunk.index
        attempts = int(chunk.attempts or 0) + 1
        self._spool.set_chunk_state(rid, index, ChunkState.UPLOADING, attempts=attempts)
        self._emit(ChunkStateChanged(rid, index, ChunkState.UPLOADING, attempts=attempts))
        try:
            audio = self._spool.read_chunk_audio(rid, index)
            client.transcribe_segment(session_id, remote_id, index, audio)
        except (RejectedError, DecryptionError, NotFoundError, ChunkUnreadableError) as error:
            if (
                isinstance(error, RejectedError)
                and error.status == 404
                and self._session_gone(client, rid, session_id)
            ):
                raise _SessionGone from error
            reason = str(error)
            self._spool.set_chunk_state(
                rid, index, ChunkState.REJECTED, attempts=attempts, error=reason
            )
            audit(
                "chunk.rejected",
                logging.WARNING,
                recording=rid,
                index=index,
                attempts=attempts,
                error=type(error).__name__,
                status=getattr(error, "status", None),
            )
            self._emit(
                ChunkStateChanged(rid, index, ChunkState.REJECTED, attempts=attempts, error=reason)
            )
            self._emit(
                ErrorOccurred(
                    message=f"Chunk {index} cannot be uploaded; its audio is kept. {reason}",
                    where="upload",
                    extra={"recording_id": rid, "index": str(index)},
                )
            )
            self._connection.ok()
            return True
        except HeidiError as error:
            # Retryable trouble, or auth/config (wait long; the audio is fine).
            delay = self._backoff.delay(attempts, error.retry_after)
            if not error.retryable:
                delay = max(delay, self._backoff.cap_s)
            at = self._clock() + delay
            reason = str(error)
            self._spool.set_chunk_state(
                rid, index, ChunkState.RETRYING, attempts=attempts, next_attempt_at=at, error=reason
            )
            self._emit(
                ChunkStateChanged(
                    rid,
                    index,
                    ChunkState.RETRYING,
                    attempts=attempts,
                    next_attempt_at=at,
                    error=reason,
                )
            )
            self._connection.failed(error)
            return False
        self._spool.set_chunk_state(
            rid, index, ChunkState.UPLOADED, attempts=attempts, next_attempt_at=None, error=None
        )
        audit(
            "chunk.uploaded",
            recording=rid,
            index=index,
            attempts=attempts,
            host=url_host(client.base_url),
        )
        self._emit(ChunkStateChanged(rid, index, ChunkState.UPLOADED, attempts=attempts))
        poller = self._pollers.get(rid)
        if poller is not None:
            poller.wake()
        return True

    def _fetch_final(self, client: HeidiClient, rid: str, session_id: str, remote_id: str) -> None:
        poller = self._pollers.get(rid) or self._make_poller(client, rid, session_id, remote_id)
        poller.stop(timeout=2.0)
        final = poller.fetch_final()
        self._set_recording_state(rid, RecordingState.DONE)
        failed = [c.index for c in final.chunks if c.status is ServerStatus.FAILED]
        audit(
            "transcript.final",
            logging.WARNING if failed else logging.INFO,
            recording=rid,
            session=session_id,
            chunks=len(final.chunks),
            failed_chunks=",".join(map(str, failed)) or None,
        )
        self._pollers.pop(rid, None)
        with self._cond:
            self._skip_rejected.discard(rid)

    def _finish_empty(self, rec: RecordingRow) -> None:
        """A recording that ended with no chunk at all: nothing to upload or transcribe."""
        rid: str = rec.recording_id
        self._set_recording_state(rid, RecordingState.FINISHED)
        self._set_recording_state(rid, RecordingState.DONE)
        audit("recording.finished", recording=rid, chunks=0, duration_s=0.0)

    def _set_recording_state(self, rid: str, state: RecordingState) -> None:
        self._spool.set_recording_state(rid, state)
        self._emit(RecordingStateChanged(rid, state))
        with self._cond:
            self._cond.notify_all()

    def _make_poller(
        self, client: HeidiClient, rid: str, session_id: str, remote_id: str
    ) -> TranscriptPoller:
        def active() -> bool:
            try:
                rec = self._spool.recording(rid)
                if rec.state is RecordingState.RECORDING:
                    return True
                return any(c.state is not ChunkState.UPLOADED for c in self._spool.chunks(rid))
            except Exception:
                return False

        return TranscriptPoller(
            client,
            rid,
            session_id,
            self._emit,
            active=active,
            remote_recording_id=remote_id,
            spool=self._spool,
            fast_s=self._poll_fast_s,
            slow_s=self._poll_slow_s,
        )

    def _ensure_poller(
        self, client: HeidiClient, rec: RecordingRow, session_id: str, remote_id: str
    ) -> None:
        rid: str = rec.recording_id
        if not self._live or rid in self._pollers or self._stopping:
            return
        poller = self._make_poller(client, rid, session_id, remote_id)
        self._pollers[rid] = poller
        poller.start()

    def _stop_poller(self, rid: str) -> None:
        poller = self._pollers.pop(rid, None)
        if poller is not None:
            poller.stop(timeout=2.0)

    def _remote_backoff_until(self, rid: str) -> float | None:
        entry = self._remote_retry.get(rid)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[1]

    def _recording_level_failure(self, rid: str, step: Step, error: HeidiError) -> None:
        """Creating the session, :finish or the final transcript failed: back off, say why."""
        failures = self._remote_retry.get(rid, (0, 0.0))[0] + 1
        delay = self._backoff.delay(failures, error.retry_after)
        if not error.retryable:
            delay = max(delay, self._backoff.cap_s)
        self._remote_retry[rid] = (failures, self._clock() + delay)
        log.info(
            "recording step %s failed (%s); retry in %.1fs",
            step.action,
            type(error).__name__,
            delay,
        )
        if isinstance(error, AuthError | ConfigError | RejectedError):
            self._emit(
                ErrorOccurred(message=str(error), where="upload", extra={"recording_id": rid})
            )
        self._connection.failed(error)

    def _describe_target(self) -> str:
        return self._client.base_url if self._client is not None else self._mode


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
