"""Plain event objects the core emits; the CLI prints them, the UI bridge makes Qt signals of them.

Events are immutable and carry no audio and no transcript text except in
TranscriptUpdated (which is for display only and must never be logged).
Emitters call an `EventSink` (any callable taking an Event); sinks must be
quick and thread-safe, because events come from worker threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from recorder.states import ChunkState, RecordingState, ServerStatus, SessionState


@dataclass(frozen=True)
class SessionStateChanged:
    """The recording session moved to a new state; `reason` explains FAILED."""

    state: SessionState
    recording_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LevelChanged:
    """Input level, about 10 times a second while capturing. `peak` in 0..1."""

    peak: float
    rms_dbfs: float
    silent_for_s: float  # how long the input has stayed at silence (0 when not silent)


@dataclass(frozen=True)
class ElapsedChanged:
    """Recorded audio so far (pauses excluded), in seconds."""

    recording_id: str
    elapsed_s: float


@dataclass(frozen=True)
class CaptureProblem:
    """Something went wrong with capture; `kind` says what, `message` says it in plain words.

    Kinds: overflow, stalled, device_lost, disk; and, while a lost microphone is being
    reopened, input_lost (the recording stays open) and input_back (audio flows again; the
    message names the gap, see AudioGap); disk_back: a recording that a full or unwritable
    data folder stopped (disk) is saved from its journal once the folder takes it again
    (AmbientCore). device_lost also covers a file source that decoded
    shorter than it declared. For overflow, `count` is frames dropped on a ring overrun, or
    flagged PortAudio callbacks.
    """

    kind: str
    message: str
    count: int = 0


INPUT_LOST = "input_lost"  # AudioGap.cause of a lost microphone (the others: AudioLoss.cause)


@dataclass(frozen=True)
class AudioGap:
    """Audio missing from a recording: the input was lost, or audio was dropped on the way in.

    A lost input cuts the chunk, so its gap falls just before chunk `before_chunk`. Audio
    dropped while capturing (cause ring_full / input_overflow / input_timing, see
    recorder.audio.losses) usually falls inside a chunk: `within_chunk` is that chunk and
    `before_chunk` the one after it, so the marker follows the passage it is missing from
    (None: it fell at a cut, between two chunks). `at_s` is how much audio the recording holds
    before it (exact place), `started_at` the unix time it began. Persisted beside the
    recording (recorder.gaps) for the transcript and export.
    """

    recording_id: str
    before_chunk: int
    at_s: float
    started_at: float
    duration_s: float
    reason: str
    within_chunk: int | None = None
    cause: str = INPUT_LOST

    def marker(self) -> str:
        """The line a transcript shows in place of the missing audio."""
        if self.cause == INPUT_LOST:
            return f"[no audio for {describe_seconds(self.duration_s)}: {self.reason}]"
        where = " in the passage above," if self.within_chunk is not None else ""
        return (
            f"[{_about_seconds(self.duration_s)} of audio missing{where} at "
            f"{describe_clock(self.at_s)} into the recording: {self.reason}]"
        )


def describe_clock(seconds: float) -> str:
    """A place in a recording as a clock: `4:07`, `1:02:03`."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _about_seconds(seconds: float) -> str:
    """An estimated stretch of audio: `about 1.7 s`, `under 0.1 s`, `about 12 s`."""
    if seconds < 0.05:
        return "under 0.1 s"
    return f"about {seconds:.1f} s" if seconds < 10 else f"about {describe_seconds(seconds)}"


def describe_seconds(seconds: float) -> str:
    """A duration the way people say it: `12 s`, `3 min 5 s`."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


@dataclass(frozen=True)
class ChunkRecorded:
    """A chunk was committed to the spool (encrypted) and queued for upload."""

    recording_id: str
    index: int
    duration_s: float
    size_bytes: int


@dataclass(frozen=True)
class ChunkStateChanged:
    """A chunk's local upload state changed (queued, uploading, retrying, uploaded, rejected)."""

    recording_id: str
    index: int
    state: ChunkState
    attempts: int = 0
    next_attempt_at: float | None = None  # unix time of the next attempt when RETRYING
    error: str | None = None  # why it is retrying or rejected, in plain words


@dataclass(frozen=True)
class TranscriptChunk:
    """One chunk as the server reports it in the live transcript."""

    index: int
    chunk_id: str
    status: ServerStatus
    text: str
    duration_s: float
    source: str


@dataclass(frozen=True)
class TranscriptUpdated:
    """The live (or, when `final`, the final) transcript of a recording. Never log `text`."""

    recording_id: str
    session_id: str
    chunks: tuple[TranscriptChunk, ...]
    transcript: str
    final: bool = False


@dataclass(frozen=True)
class RecordingStateChanged:
    """A recording in the spool changed state (recorded, interrupted, finished, done)."""

    recording_id: str
    state: RecordingState


@dataclass(frozen=True)
class ConnectionChanged:
    """Where uploads go and whether they get there: `mode` is heidi, local or offline."""

    mode: str
    detail: str
    waiting_chunks: int = 0
    last_error: str | None = None
    exit_code: int | None = None  # of the last failure, for the CLI (auth vs unreachable)


@dataclass(frozen=True)
class ErrorOccurred:
    """An error worth showing the user, in plain words.

    `severity` "warning": something IT should know while everything still works (the spool key
    kept in a user-only file); "error": something failed.
    """

    message: str
    where: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    severity: str = "error"


Event = (
    SessionStateChanged
    | LevelChanged
    | ElapsedChanged
    | CaptureProblem
    | AudioGap
    | ChunkRecorded
    | ChunkStateChanged
    | TranscriptUpdated
    | RecordingStateChanged
    | ConnectionChanged
    | ErrorOccurred
)

EventSink = Callable[[Event], None]


def ignore_event(_event: Event) -> None:
    """An EventSink that drops everything (for headless helpers that need none)."""
