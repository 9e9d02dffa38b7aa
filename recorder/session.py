"""The recording session: one state machine that runs capture → spool for one recording.

idle → recording ⇄ paused → finishing → done (or failed). The writer thread
drains the capture ring every ~100 ms and feeds the spool's RecordingWriter
(chunker + encoder + journal). Pause keeps draining the ring but drops the
audio, so pausing never overflows it; Stop stops capture, drains what is still
buffered (Stop never throws audio away), flushes the last chunk and marks the
recording RECORDED. Uploading is not this class's job: `on_chunk` tells the
uploader a chunk is ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from recorder.audio import Capture, SourceSpec
from recorder.errors import AudioInputError, RecorderError, SpoolError
from recorder.events import (
    CaptureProblem,
    ChunkRecorded,
    ElapsedChanged,
    ErrorOccurred,
    EventSink,
    LevelChanged,
    RecordingStateChanged,
    SessionStateChanged,
)
from recorder.spool import ChunkRow, Spool
from recorder.states import RecordingState, SessionState

log = logging.getLogger(__name__)

SILENCE_PEAK = 0.003  # about -50 dBFS: below this the room is taken as silent
LEVEL_INTERVAL_S = 0.1
READ_TIMEOUT_S = 0.1
STOPPING_KINDS = frozenset({"device_lost"})  # the input is gone: keep what we have, stop


@dataclass(frozen=True)
class ConsultMeta:
    """What the clinician enters before recording; stored in the spool, never logged."""

    consent_obtained: bool = False
    patient_ref: str = ""
    language_code: str = "en"

    def as_dict(self) -> dict[str, Any]:
        return {
            "consent_obtained": self.consent_obtained,
            "patient_ref": self.patient_ref,
            "language_code": self.language_code,
        }


@dataclass
class SessionOptions:
    """Chunk bounds and an optional duration limit (the CLI's --duration)."""

    chunk_min_s: float = 45.0
    chunk_max_s: float = 60.0
    duration_s: float | None = None
    sample_rate: int = 16_000
    capture_options: dict[str, Any] = field(default_factory=dict)


class RecordingSession:
    """Records one consult into the spool; every change is reported as an event."""

    def __init__(
        self,
        spool: Spool,
        source: SourceSpec,
        meta: ConsultMeta,
        on_event: EventSink,
        *,
        options: SessionOptions | None = None,
        on_chunk: Callable[[ChunkRow], None] | None = None,
        capture_factory: Callable[..., Capture] = Capture,
    ) -> None:
        self._spool = spool
        self._source = source
        self._meta = meta
        self._emit = on_event
        self._options = options or SessionOptions()
        self._on_chunk = on_chunk
        self._capture_factory = capture_factory
        self._state = SessionState.IDLE
        self._state_lock = threading.Lock()
        self._paused = threading.Event()
        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self.recording_id: str | None = None
        self.frames_recorded = 0
        self.chunks: list[ChunkRow] = []
        self.failure: RecorderError | None = None
        self._silent_since: float | None = None

    # -- public API ----------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    def start(self) -> str:
        """Open the input and the recording; a RecorderError (clear message) if either fails."""
        if self._state != SessionState.IDLE:
            raise RecorderError(f"Cannot start: the session is {self._state.value}.")
        capture = self._capture_factory(
            self._source, target_rate=self._options.sample_rate, **self._options.capture_options
        )
        try:  # the input first: if it refuses, no empty recording is left in the spool
            capture.start()
            recording = self._spool.create_recording(
                sample_rate=self._options.sample_rate,
                meta=self._meta.as_dict(),
                chunk_min_s=self._options.chunk_min_s,
                chunk_max_s=self._options.chunk_max_s,
            )
            writer = self._spool.writer(recording.recording_id)
        except BaseException:
            capture.stop()  # release the device; the few ms it captured were never recorded
            raise
        self.recording_id = recording.recording_id
        log.info("recording %s started", recording.recording_id)
        self._set_state(SessionState.RECORDING)
        self._thread = threading.Thread(
            target=self._run, args=(capture, writer), name="recording-writer", daemon=True
        )
        self._thread.start()
        return recording.recording_id

    def pause(self) -> None:
        with self._state_lock:
            if self._state != SessionState.RECORDING:
                return
            self._paused.set()
        self._set_state(SessionState.PAUSED)

    def resume(self) -> None:
        with self._state_lock:
            if self._state != SessionState.PAUSED:
                return
            self._paused.clear()
        self._set_state(SessionState.RECORDING)

    def stop(self) -> None:
        """Ask capture to stop; the writer thread drains, flushes the last chunk and finishes."""
        self._stop_requested.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the writer thread to finish; True once the recording is closed."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def elapsed_s(self) -> float:
        return self.frames_recorded / self._options.sample_rate

    # -- the writer thread -----------------------------------------------------------------

    def _set_state(self, state: SessionState, reason: str | None = None) -> None:
        with self._state_lock:
            self._state = state
        self._emit(SessionStateChanged(state, self.recording_id, reason))

    def _run(self, capture: Capture, writer: Any) -> None:
        assert self.recording_id is not None
        rid = self.recording_id
        next_level = time.monotonic()
        stopping = False
        lost: str | None = None
        try:
            while True:
                pcm = capture.read(READ_TIMEOUT_S)
                if pcm.size and not self._paused.is_set():
                    pcm = self._within_duration(pcm)
                    self._write(writer, pcm)
                for problem in capture.problems():
                    self._emit(problem)
                    if problem.kind in STOPPING_KINDS and lost is None:
                        lost = problem.message
                        self._emit(ErrorOccurred(problem.message, where="capture"))
                        self._stop_requested.set()
                now = time.monotonic()
                if now >= next_level:
                    next_level = now + LEVEL_INTERVAL_S
                    self._emit_level(capture, now)
                if self._limit_reached():
                    self._stop_requested.set()
                if self._stop_requested.is_set() and not stopping:
                    stopping = True
                    self._set_state(SessionState.FINISHING)
                    capture.stop()
                if capture.finished:
                    if not stopping:
                        stopping = True
                        self._set_state(SessionState.FINISHING)
                    break
            self._commit(writer.close(RecordingState.RECORDED))
            log.info(
                "recording %s recorded: %d chunks, %.1f s", rid, len(self.chunks), self.elapsed_s
            )
            self._emit(RecordingStateChanged(rid, RecordingState.RECORDED))
            if lost is None:
                self._set_state(SessionState.DONE)
            else:  # every chunk so far is kept and uploads; the session itself failed
                self.failure = AudioInputError(lost)
                self._set_state(SessionState.FAILED, lost)
        except RecorderError as error:
            self._fail(capture, writer, error)
        except Exception as error:  # the thread must report, never die silently
            log.exception("recording writer failed")
            self._fail(capture, writer, RecorderError(f"Recording stopped unexpectedly: {error}"))

    def _fail(self, capture: Capture, writer: Any, error: RecorderError) -> None:
        """Stop capture, keep every chunk already committed, and report why."""
        self.failure = error
        log.warning("recording %s failed: %s", self.recording_id, type(error).__name__)
        try:
            capture.stop()
        except Exception:
            log.warning("capture did not stop cleanly after a failure")
        try:  # flush what we have; after a disk error the writer keeps the journal instead
            rows = writer.close(RecordingState.RECORDED)
            self._commit(rows)
            if self.recording_id and not isinstance(error, SpoolError):
                self._emit(RecordingStateChanged(self.recording_id, RecordingState.RECORDED))
        except RecorderError as close_error:
            log.warning("could not flush after failure: %s", type(close_error).__name__)
        self._emit(ErrorOccurred(str(error), where="recording"))
        if isinstance(error, SpoolError):
            self._emit(CaptureProblem("disk", str(error)))
        self._set_state(SessionState.FAILED, str(error))

    def _within_duration(self, pcm: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        limit = self._options.duration_s
        if limit is None:
            return pcm
        remaining = round(limit * self._options.sample_rate) - self.frames_recorded
        return pcm[: max(0, remaining)]

    def _limit_reached(self) -> bool:
        limit = self._options.duration_s
        if limit is None:
            return False
        return self.frames_recorded >= round(limit * self._options.sample_rate)

    def _write(self, writer: Any, pcm: npt.NDArray[np.float32]) -> None:
        if not pcm.size:
            return
        rows = writer.write(pcm)
        self.frames_recorded += int(pcm.shape[0])
        self._commit(rows)
        if self.recording_id:
            self._emit(ElapsedChanged(self.recording_id, self.elapsed_s))

    def _commit(self, rows: list[ChunkRow]) -> None:
        for row in rows:
            log.info(
                "chunk %d committed: %.2f s, %d bytes", row.index, row.duration_s, row.size_bytes
            )
            self.chunks.append(row)
            self._emit(ChunkRecorded(row.recording_id, row.index, row.duration_s, row.size_bytes))
            if self._on_chunk is not None:
                self._on_chunk(row)

    def _emit_level(self, capture: Capture, now: float) -> None:
        peak, rms_dbfs = capture.level()
        if self._paused.is_set():
            self._silent_since = None
        elif peak < SILENCE_PEAK:
            self._silent_since = self._silent_since or now
        else:
            self._silent_since = None
        silent_for = now - self._silent_since if self._silent_since else 0.0
        self._emit(LevelChanged(peak, rms_dbfs, silent_for))
