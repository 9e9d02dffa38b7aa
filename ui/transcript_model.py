"""The growing transcript of one recording, chunk by chunk, with visible gaps.

Every chunk known locally or on the server gets a line in index order: its text
when READY, otherwise a placeholder, so a missing minute is never silent. Audio that
was never recorded (the microphone was lost) is marked too, where it fell:
"[no audio for N s: microphone lost]" before the chunk recorded after it, and
"[no audio: microphone lost — reconnecting…]" at the end while it is still away.
Holds patient text in memory only; nothing here logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from recorder.events import (
    AudioGap,
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    SessionStateChanged,
    TranscriptUpdated,
)
from recorder.gaps import interleave
from recorder.states import ChunkState, ServerStatus, SessionState
from ui.models import INPUT_LOST_TEXT, chunk_label

CAPTURING = (SessionState.RECORDING, SessionState.PAUSED)
LOST_NOW_MARKER = f"[no audio: {INPUT_LOST_TEXT}]"


@dataclass(frozen=True)
class TranscriptPart:
    """One chunk's contribution (its text, or why there is none yet), or a gap's marker.

    A gap part has `gap` set and the index of the chunk it comes before; it counts as
    ready, since there is nothing to wait for: that audio was never recorded.
    """

    index: int
    text: str
    ready: bool
    gap: bool = False


def placeholder(index: int, status: ServerStatus | None, local: ChunkState | None) -> str:
    """The words standing in for a chunk whose text is not (yet) available."""
    label = chunk_label(index)
    if status is ServerStatus.FAILED:
        return f"[{label} — transcription failed]"
    if status is ServerStatus.PENDING or local is ChunkState.UPLOADED:
        return f"[{label} — transcribing…]"
    if local is ChunkState.REJECTED:
        return f"[{label} — upload rejected; audio kept]"
    if local is ChunkState.UPLOADING:
        return f"[{label} — uploading…]"
    return f"[{label} — waiting to upload]"


class TranscriptModel:
    """Assembles the transcript of the recording on screen from core events."""

    def __init__(self) -> None:
        self.recording_id: str | None = None
        self._reset()

    def _reset(self) -> None:
        self.final = False
        self._local: dict[int, ChunkState] = {}
        self._status: dict[int, ServerStatus] = {}
        self._text: dict[int, str] = {}
        self._gaps: list[AudioGap] = []
        self._capturing = False  # this recording is being captured now
        self._lost_now = False  # ... and its microphone is lost, being reopened
        self._whole = ""  # the server's transcript, used only when it reports no chunks

    def show_recording(self, recording_id: str | None) -> None:
        """Start over for another recording."""
        if recording_id != self.recording_id:
            self._reset()
            self.recording_id = recording_id

    def apply(self, event: object) -> bool:
        """Take an event; True when the visible transcript may have changed."""
        if isinstance(event, SessionStateChanged):
            return self._on_session(event)
        if isinstance(event, CaptureProblem):
            return self._on_problem(event)
        if getattr(event, "recording_id", None) != self.recording_id:
            return False
        if isinstance(event, ChunkRecorded):
            self._local.setdefault(event.index, ChunkState.QUEUED)
            return True
        if isinstance(event, ChunkStateChanged):
            self._local[event.index] = event.state
            failed = self._status.get(event.index) is ServerStatus.FAILED
            if event.state is ChunkState.QUEUED and failed:
                del self._status[event.index]  # sent again (Retry): no longer "failed"
            return True
        if isinstance(event, AudioGap):
            self._add_gap(event)
            return True
        if isinstance(event, TranscriptUpdated):
            for chunk in event.chunks:
                self._status[chunk.index] = chunk.status
                if chunk.status is ServerStatus.READY:
                    self._text[chunk.index] = chunk.text.strip()
            self._whole = event.transcript.strip()
            self.final = self.final or event.final
            return True
        return False

    def _on_session(self, event: SessionStateChanged) -> bool:
        if event.state is SessionState.RECORDING and event.recording_id is not None:
            self.show_recording(event.recording_id)
        if event.recording_id != self.recording_id:
            return False
        was_lost = self._lost_now
        self._capturing = event.state in CAPTURING
        self._lost_now = self._lost_now and self._capturing
        return was_lost != self._lost_now

    def _on_problem(self, event: CaptureProblem) -> bool:
        """input_lost / input_back concern the recording being captured, which is this one."""
        if event.kind not in ("input_lost", "input_back") or not self._capturing:
            return False
        was_lost = self._lost_now
        self._lost_now = event.kind == "input_lost"
        return was_lost != self._lost_now

    def _add_gap(self, gap: AudioGap) -> None:
        """Keep a gap once: the core may report a kept gap again (a resumed recording)."""
        same = [g for g in self._gaps if g.started_at == gap.started_at]
        self._gaps = [g for g in self._gaps if g not in same] + [gap]
        self._gaps.sort(key=lambda g: (g.before_chunk, g.started_at))
        self._lost_now = False  # closed: the marker now says how long

    def input_lost(self) -> bool:
        """The microphone of this recording is lost now: nothing is being recorded."""
        return self._lost_now

    def gaps(self) -> list[AudioGap]:
        """The gaps in this recording's audio, in order."""
        return list(self._gaps)

    def parts(self) -> list[TranscriptPart]:
        """Every known chunk in index order, each gap just before the chunk it precedes."""
        parts = []
        chunks = set(self._local) | set(self._status)
        for item in interleave(chunks, self._gaps):
            if isinstance(item, AudioGap):
                parts.append(TranscriptPart(item.before_chunk, item.marker(), True, gap=True))
            elif self._status.get(item) is ServerStatus.READY:
                parts.append(TranscriptPart(item, self._text.get(item, ""), True))
            else:
                text = placeholder(item, self._status.get(item), self._local.get(item))
                parts.append(TranscriptPart(item, text, False))
        if self._lost_now:
            after = max(chunks, default=-1) + 1
            parts.append(TranscriptPart(after, LOST_NOW_MARKER, True, gap=True))
        return parts

    def text(self) -> str:
        """The transcript as shown, copied and exported: gaps stay marked."""
        parts = self.parts()
        if self._whole and all(part.gap for part in parts):  # the server gave no chunks
            parts = [TranscriptPart(0, self._whole, True), *parts]
        return "\n\n".join(part.text for part in parts if part.text)

    def is_complete(self) -> bool:
        """Every known chunk is transcribed (nothing left to wait for)."""
        chunks = [part for part in self.parts() if not part.gap]
        return bool(chunks) and all(part.ready for part in chunks)

    def missing(self) -> int:
        """How many chunks have no text yet."""
        return sum(1 for part in self.parts() if not part.ready)
