"""The growing transcript of one recording, chunk by chunk, with visible gaps.

Every chunk known locally or on the server gets a line in index order: its text
when READY, otherwise a placeholder, so a missing minute is never silent.
Holds patient text in memory only; nothing here logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from recorder.events import ChunkRecorded, ChunkStateChanged, SessionStateChanged, TranscriptUpdated
from recorder.states import ChunkState, ServerStatus, SessionState
from ui.models import chunk_label


@dataclass(frozen=True)
class TranscriptPart:
    """One chunk's contribution: its text, or why there is none yet."""

    index: int
    text: str
    ready: bool


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
        self._whole = ""  # the server's transcript, used only when it reports no chunks

    def show_recording(self, recording_id: str | None) -> None:
        """Start over for another recording."""
        if recording_id != self.recording_id:
            self._reset()
            self.recording_id = recording_id

    def apply(self, event: object) -> bool:
        """Take an event; True when the visible transcript may have changed."""
        if isinstance(event, SessionStateChanged):
            if event.state is SessionState.RECORDING and event.recording_id is not None:
                self.show_recording(event.recording_id)
            return False
        if getattr(event, "recording_id", None) != self.recording_id:
            return False
        if isinstance(event, ChunkRecorded):
            self._local.setdefault(event.index, ChunkState.QUEUED)
            return True
        if isinstance(event, ChunkStateChanged):
            self._local[event.index] = event.state
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

    def parts(self) -> list[TranscriptPart]:
        """Every known chunk in index order."""
        parts = []
        for index in sorted(set(self._local) | set(self._status)):
            if self._status.get(index) is ServerStatus.READY:
                parts.append(TranscriptPart(index, self._text.get(index, ""), True))
            else:
                text = placeholder(index, self._status.get(index), self._local.get(index))
                parts.append(TranscriptPart(index, text, False))
        return parts

    def text(self) -> str:
        """The transcript as shown, copied and exported: gaps stay marked."""
        parts = self.parts()
        if not parts:
            return self._whole
        return "\n\n".join(part.text for part in parts if part.text)

    def is_complete(self) -> bool:
        """Every known chunk is transcribed (nothing left to wait for)."""
        parts = self.parts()
        return bool(parts) and all(part.ready for part in parts)

    def missing(self) -> int:
        """How many chunks have no text yet."""
        return sum(1 for part in self.parts() if not part.ready)
