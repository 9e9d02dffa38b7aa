"""The recording session: one state machine that runs capture → spool for one recording.

idle → recording ⇄ paused → finishing → done (or failed). The writer thread
drains the capture ring every ~100 ms and feeds the spool's RecordingWriter
(chunker + encoder + journal). Pause keeps draining the ring but drops the
audio, so pausing never overflows it; Stop stops capture, drains what is still
buffered (Stop never throws audio away), flushes the last chunk and marks the
recording RECORDED. Uploading is not this class's job: `on_chunk` tells the
uploader a chunk is ready.

A microphone that is lost (unplugged, sound server restarted, taken by another app) does not
end the recording: the chunk in progress is committed at once (so it uploads), the session
reports CaptureProblem("input_lost") and reopens the input in the background (the same one,
later the default), then carries on into the next chunk index. The gap is reported as an
AudioGap event and kept in the spool (recorder.gaps); its duration is the audio missed, so
time spent paused meanwhile is left out. Only when the input stays away longer
than `reconnect_limit_s` does the session end, FAILED with the reason; Stop, Pause and Resume
work throughout.

Audio the capture drops while recording (the computer too busy: recorder.audio.losses) is a
gap too, reported up to ~2 s late: it is placed in the recording where it happened
(recorder.dropped_audio), usually inside a chunk, whose marker it then follows. One that fell
inside a pause is only logged: nothing the recording would have kept is missing.
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

from recorder.audio import SILENCE_DBFS, Capture, MicrophoneSpec, Reopener, SourceSpec
from recorder.audio.losses import AudioLoss
from recorder.dropped_audio import PAUSE_MARGIN_S, DeliveryMap, loss_reason, place_in_chunks
from recorder.errors import AudioInputError, RecorderError, SpoolError
from recorder.events import (
    AudioGap,
    CaptureProblem,
    ChunkRecorded,
    ElapsedChanged,
    ErrorOccurred,
    EventSink,
    LevelChanged,
    RecordingStateChanged,
    SessionStateChanged,
    describe_seconds,
)
from recorder.gaps import save_gap
from recorder.logs import audit
from recorder.spool import ChunkRow, Spool
from recorder.states import RecordingState, SessionState

log = logging.getLogger(__name__)

SILENCE_PEAK = 0.003  # about -50 dBFS: below this the room is taken as silent
LEVEL_INTERVAL_S = 0.1
READ_TIMEOUT_S = 0.1
STOPPING_KINDS = frozenset({"device_lost"})  # a file source is gone: keep what we have, stop
LOSS_KINDS = frozenset({"device_lost", "stalled"})  # a microphone is gone: reopen it
DEFAULT_RECONNECT_LIMIT_S = 600.0  # how long a lost microphone is waited for before giving up
GAP_REASON = "microphone lost"
GAP_SAVE_EVERY_S = 5.0  # while the input is away, the open gap is re-saved this often
LATE_TURN_S = 1.0  # the writer loop turns every ~0.1 s; this late, the process was not running
STALL_RECHECK_S = 1.0  # after such a pause, a "stalled" input gets this long to deliver again


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
    reconnect_limit_s: float = DEFAULT_RECONNECT_LIMIT_S  # 0: a lost microphone ends it at once


@dataclass(frozen=True)
class _Loss:
    """A gap still open: the input stopped delivering and no audio has come back yet."""

    started_mono: float
    started_at: float
    at_s: float
    before_chunk: int


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
        self.gaps: list[AudioGap] = []  # where the input was lost (also kept in the spool)
        self._silent_since: float | None = None
        self._capture: Capture | None = None  # the input being read (changes on a reopen)
        self._loss: _Loss | None = None
        self._pauses: list[tuple[float, float]] = []  # (start, end) monotonic, ended pauses
        self._paused_at: float | None = None  # monotonic start of the pause going on

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
        audit("recording.started", recording=recording.recording_id)
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
            self._paused_at = time.monotonic()
        audit("recording.paused", recording=self.recording_id, at_s=self.elapsed_s)
        self._set_state(SessionState.PAUSED)

    def resume(self) -> None:
        with self._state_lock:
            if self._state != SessionState.PAUSED:
                return
            self._paused.clear()
            if self._paused_at is not None:
                self._pauses.append((self._paused_at, time.monotonic()))
                self._paused_at = None
        audit("recording.resumed", recording=self.recording_id)
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

    @property
    def input_lost(self) -> bool:
        """True while the input is lost and being reopened (the recording is still open)."""
        return self._loss is not None

    # -- the writer thread -----------------------------------------------------------------

    def _set_state(self, state: SessionState, reason: str | None = None) -> None:
        with self._state_lock:
            self._state = state
        self._emit(SessionStateChanged(state, self.recording_id, reason))

    def _run(self, capture: Capture, writer: Any) -> None:
        assert self.recording_id is not None
        rid = self.recording_id
        self._capture = capture
        given_up: str | None = None
        try:
            while True:
                lost = self._capture_until_end(capture, writer)
                if lost is None or self._stop_requested.is_set():
                    break  # stopped (a loss at the same moment leaves nothing to wait for)
                if not self._may_reopen():
                    given_up = lost
                    self._emit(ErrorOccurred(lost, where="capture"))
                    break
                self._commit(writer.cut())  # what was captured is safe and uploads meanwhile
                self._input_lost(capture, writer.chunks_committed)
                reopened, given_up = self._reopen()
                if reopened is None:
                    break
                capture = self._capture = reopened
            self._close_gap(time.monotonic(), ended=True)
            if self._state != SessionState.FINISHING:
                self._set_state(SessionState.FINISHING)
            self._commit(writer.close(RecordingState.RECORDED))
            audit(
                "recording.stopped",
                recording=rid,
                chunks=len(self.chunks),
                duration_s=self.elapsed_s,
            )
            self._emit(RecordingStateChanged(rid, RecordingState.RECORDED))
            if given_up is None:
                self._set_state(SessionState.DONE)
            else:  # every chunk so far is kept and uploads; the session itself failed
                self.failure = AudioInputError(given_up)
                self._set_state(SessionState.FAILED, given_up)
        except RecorderError as error:
            self._fail(writer, error)
        except Exception as error:  # the thread must report, never die silently
            log.exception("recording writer failed")
            self._fail(writer, RecorderError(f"Recording stopped unexpectedly: {error}"))

    def _capture_until_end(self, capture: Capture, writer: Any) -> str | None:
        """Record from `capture` until Stop / the end of the source (None) or its loss (why).

        Either way the capture is stopped and everything it captured has been written.
        """
        next_level = time.monotonic()
        stopping = False
        lost: str | None = None
        reopenable = isinstance(capture.spec, MicrophoneSpec)
        delivery = DeliveryMap()  # where this capture's audio went in the recording
        waiting: list[AudioLoss] = []  # losses whose audio around them is not read yet
        doubted: tuple[CaptureProblem, float] | None = None  # a stall to check again, when
        turned = time.monotonic()
        while True:
            pcm = capture.read(READ_TIMEOUT_S)
            if pcm.size:
                self._close_gap(time.monotonic() - pcm.shape[0] / self._options.sample_rate)
                recorded_from, written = self.frames_recorded, 0
                if not self._paused.is_set():
                    part = self._within_duration(pcm)
                    self._write(writer, part)
                    written = int(part.shape[0])
                delivery.add(int(pcm.shape[0]), recorded_from, written)
            problems = capture.problems()
            now = time.monotonic()
            late, turned = now - turned > LATE_TURN_S, now
            if doubted is not None and now >= doubted[1]:
                if capture.stalled:
                    problems.append(doubted[0])
                else:
                    log.info("the recorder was not running for a while; the input is fine")
                doubted = None
            for problem in problems:
                if problem.kind == "stalled" and late and doubted is None:
                    # This process itself was frozen (suspended, starved): the input could not
                    # deliver to it. Stopping it now would throw away what the sound server
                    # still holds; the capture measures what it dropped (a loss, below).
                    doubted = (problem, now + STALL_RECHECK_S)
                    continue
                self._emit(problem)
                kinds = LOSS_KINDS if reopenable else STOPPING_KINDS
                if problem.kind in kinds and lost is None and not stopping:
                    lost = problem.message
                    capture.stop()  # bounded wait; what it captured stays readable
            waiting = self._mark_losses(capture, delivery, waiting + capture.losses())
            now = time.monotonic()
            if now >= next_level:
                next_level = now + LEVEL_INTERVAL_S
                self._emit_level(capture, now)
            if self._limit_reached():
                self._stop_requested.set()
            if self._stop_requested.is_set() and not stopping and lost is None:
                stopping = True
                self._set_state(SessionState.FINISHING)
                capture.stop()
            if capture.finished:  # every frame read: the last losses are placed, whatever
                self._mark_losses(capture, delivery, waiting + capture.losses(), final=True)
                if lost is None and not stopping:  # a file source ended by itself
                    self._set_state(SessionState.FINISHING)
                return lost

    def _mark_losses(
        self,
        capture: Capture,
        delivery: DeliveryMap,
        losses: list[AudioLoss],
        final: bool = False,
    ) -> list[AudioLoss]:
        """Keep and report a gap for each loss whose surroundings were read; the rest wait.

        `final`: the capture is drained, so nothing more will be read and every loss is placed.
        """
        rate = self._options.sample_rate
        margin = round(PAUSE_MARGIN_S * rate)
        waiting: list[AudioLoss] = []
        for loss in losses:
            frame = round(loss.at_s * rate)
            if frame + margin > delivery.delivered and not final:
                waiting.append(loss)
            elif not delivery.recorded_near(frame, margin):
                log.info("%.2f s of audio dropped while paused: none was to be kept", loss.lost_s)
            else:
                self._loss_gap(capture, loss, delivery.place(frame))
        return waiting

    def _loss_gap(self, capture: Capture, loss: AudioLoss, position: int) -> None:
        """Audio dropped at recording frame `position`: keep and report it as a gap."""
        assert self.recording_id is not None
        rate = self._options.sample_rate
        stats = capture.stats
        behind_s = stats.frames_captured / stats.device_rate - loss.at_s
        committed = self.chunks[-1].start_frame + self.chunks[-1].frames if self.chunks else 0
        starts = [row.start_frame for row in self.chunks] + [committed]
        before, within = place_in_chunks(position, starts, rate)
        gap = AudioGap(
            recording_id=self.recording_id,
            before_chunk=before,
            at_s=position / rate,
            started_at=time.time() - max(behind_s, 0.0),
            duration_s=loss.lost_s,
            reason=loss_reason(loss.cause),
            within_chunk=within,
            cause=loss.cause,
        )
        self._keep_gap(gap)
        self.gaps.append(gap)
        log.info(
            "recording %s: %.2f s of audio dropped (%s) at %.2f s, before chunk %d",
            gap.recording_id,
            gap.duration_s,
            gap.cause,
            gap.at_s,
            gap.before_chunk,
        )
        self._emit(gap)

    def _may_reopen(self) -> bool:
        capture = self._capture
        return (
            capture is not None
            and isinstance(capture.spec, MicrophoneSpec)
            and self._options.reconnect_limit_s > 0
        )

    def _input_lost(self, capture: Capture, next_chunk: int) -> None:
        """Open a gap and say so (unless one is open already: the reopened input never spoke)."""
        if self._loss is not None:
            return
        started = capture.last_audio_at
        self._loss = _Loss(
            started_mono=started,
            started_at=time.time() - (time.monotonic() - started),
            at_s=self.elapsed_s,
            before_chunk=next_chunk,
        )
        self._save_gap(self._loss, time.monotonic())  # marked even if the app dies meanwhile
        self._emit(
            CaptureProblem(
                "input_lost",
                f"Microphone lost — reconnecting… The audio so far is saved "
                f"({_chunks(next_chunk)}). Recording carries on when "
                f"{capture.device_name!r} (or the default input) is back; it stops after "
                f"{describe_seconds(self._options.reconnect_limit_s)} without a microphone.",
            )
        )

    def _reopen(self) -> tuple[Capture | None, str | None]:
        """Wait for the input to reopen: (capture, None), or (None, why) / (None, None) on Stop."""
        capture = self._capture
        assert capture is not None and self._loss is not None
        spec = capture.spec
        assert isinstance(spec, MicrophoneSpec)
        reopener = Reopener(spec, self._open_capture)
        reopener.start()
        loss = self._loss
        deadline = loss.started_mono + self._options.reconnect_limit_s
        next_save = time.monotonic() + GAP_SAVE_EVERY_S
        try:
            while True:
                if self._stop_requested.is_set():
                    return None, None
                opened = reopener.take()
                if opened is not None:
                    log.info("input reopened after %d attempt(s)", reopener.attempts)
                    return opened, None
                now = time.monotonic()
                if now >= deadline:
                    kept = len(self.chunks)
                    why = (reopener.last_error or "no input found").rstrip(".")
                    return None, (
                        "The microphone did not come back within "
                        f"{describe_seconds(self._options.reconnect_limit_s)}, so the recording "
                        f"was ended; the {_chunks(kept)} recorded before "
                        f"{'is' if kept == 1 else 'are'} kept and upload"
                        f"{'s' if kept == 1 else ''}. Last error: {why}."
                    )
                if now >= next_save:
                    next_save = now + GAP_SAVE_EVERY_S
                    self._save_gap(loss, now)
                self._emit_silence(now)
                self._stop_requested.wait(LEVEL_INTERVAL_S)
        finally:
            reopener.cancel()

    def _open_capture(self, spec: MicrophoneSpec) -> Capture:
        return self._capture_factory(
            spec, target_rate=self._options.sample_rate, **self._options.capture_options
        )

    def _close_gap(self, end_mono: float, ended: bool = False) -> None:
        """Audio flows again (or the recording ends): record and report the gap, if one is open."""
        loss = self._loss
        if loss is None:
            return
        self._loss = None
        gap = self._save_gap(loss, end_mono)
        self.gaps.append(gap)
        log.info("recording %s: gap of %.1f s", gap.recording_id, gap.duration_s)
        if ended:  # said before the gap, which then closes the "reconnecting" shown meanwhile
            message = f"{gap.marker()} The recording ended before the microphone came back."
            self._emit(CaptureProblem("input_lost", message))
            self._emit(gap)
        else:
            device = self._capture.device_name if self._capture is not None else "the input"
            self._emit(gap)
            self._emit(
                CaptureProblem("input_back", f"{gap.marker()} Recording continues from {device!r}.")
            )

    def _save_gap(self, loss: _Loss, end_mono: float) -> AudioGap:
        """Keep the gap (as long as it is so far) in the spool; an error is said, not raised.

        Its duration is the audio missed: time spent paused meanwhile would not have been
        recorded anyway, so it does not count.
        """
        assert self.recording_id is not None
        lost_s = end_mono - loss.started_mono - self._paused_between(loss.started_mono, end_mono)
        gap = AudioGap(
            recording_id=self.recording_id,
            before_chunk=loss.before_chunk,
            at_s=loss.at_s,
            started_at=loss.started_at,
            duration_s=max(0.0, lost_s),
            reason=GAP_REASON,
        )
        self._keep_gap(gap)
        return gap

    def _keep_gap(self, gap: AudioGap) -> None:
        try:
            save_gap(self._spool, gap)
        except OSError as error:  # the audio is unaffected; say the mark could not be kept
            self._emit(
                ErrorOccurred(f"The gap in the recording could not be saved ({error.strerror}).")
            )

    def _paused_between(self, start: float, end: float) -> float:
        """Seconds of [start, end] (monotonic) the session spent paused."""
        with self._state_lock:
            pauses = [*self._pauses]
            if self._paused_at is not None:
                pauses.append((self._paused_at, end))
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in pauses)

    def _fail(self, writer: Any, error: RecorderError) -> None:
        """Stop capture, keep every chunk already committed, and report why."""
        self.failure = error
        audit(
            "recording.failed",
            logging.WARNING,
            recording=self.recording_id,
            error=type(error).__name__,
        )
        try:
            if self._capture is not None:
                self._capture.stop()
        except Exception:
            log.warning("capture did not stop cleanly after a failure")
        try:
            self._close_gap(time.monotonic(), ended=True)
        except Exception:
            log.warning("could not record the gap after a failure")
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

    def _emit_silence(self, now: float) -> None:
        """While the input is lost the meter reads silence, and for how long."""
        if self._paused.is_set():
            self._silent_since = None
        else:
            self._silent_since = self._silent_since or now
        silent_for = now - self._silent_since if self._silent_since else 0.0
        self._emit(LevelChanged(0.0, SILENCE_DBFS, silent_for))


def _chunks(count: int) -> str:
    return f"{count} chunk" if count == 1 else f"{count} chunks"
