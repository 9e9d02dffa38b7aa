"""Prints core events as short lines for the command line (no transcript text but the final one)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from recorder.events import (
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    ConnectionChanged,
    ErrorOccurred,
    Event,
    RecordingStateChanged,
    SessionStateChanged,
    TranscriptUpdated,
)
from recorder.states import ChunkState


class EventPrinter:
    """An EventSink: one line per chunk, per chunk status change, per problem."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self._out = out
        self._err = err
        self._lock = threading.Lock()
        self._server_status: dict[tuple[str, int], str] = {}
        self._last_connection: tuple[str, str] | None = None
        self.final: TranscriptUpdated | None = None
        self.errors: list[str] = []

    def __call__(self, event: Event) -> None:
        line, to_err = self._describe(event)
        if line is None:
            return
        with self._lock:
            print(line, file=self._err if to_err else self._out, flush=True)

    def _describe(self, event: Event) -> tuple[str | None, bool]:
        match event:
            case ChunkRecorded(recording_id=_, index=i, duration_s=d, size_bytes=b):
                return f"chunk {i}: {d:.2f} s, {b} bytes", False
            case ChunkStateChanged(index=i, state=ChunkState.REJECTED):
                return f"chunk {i}: rejected (audio kept; the error line says why)", False
            case ChunkStateChanged(index=i, state=state, attempts=n, error=error):
                detail = f" (attempt {n}: {error})" if error else ""
                return f"chunk {i}: {state.value}{detail}", False
            case TranscriptUpdated():
                return self._transcript_lines(event), False
            case CaptureProblem(kind=kind, message=message):
                return f"warning: {kind}: {message}", True
            case ErrorOccurred(where="upload", extra={"index": _}):
                # a rejected chunk: said by its state line above, its reason by the one `error:`
                # line that Uplink.finish prints for the exit code (once, not twice)
                return None, False
            case ErrorOccurred(message=message, severity="warning"):
                return f"warning: {message}", True
            case ErrorOccurred(message=message):
                self.errors.append(message)
                return f"error: {message}", True
            case ConnectionChanged(mode=mode, detail=detail, waiting_chunks=n, last_error=error):
                key = (mode, error or "")
                if key == self._last_connection:
                    return None, False
                self._last_connection = key
                extra = f" ({n} chunks waiting)" if n else ""
                reason = f": {error}" if error else ""
                return f"connection: {mode} {detail}{extra}{reason}", True
            case RecordingStateChanged(recording_id=rid, state=state):
                return f"recording {rid}: {state.value}", True
            case SessionStateChanged(state=state, reason=reason):
                return (f"session: {state.value}" + (f" ({reason})" if reason else "")), True
        return None, False

    def _transcript_lines(self, event: TranscriptUpdated) -> str | None:
        if event.final:
            self.final = event
        lines = []
        for chunk in event.chunks:
            key = (event.recording_id, chunk.index)
            if self._server_status.get(key) != chunk.status.value:
                self._server_status[key] = chunk.status.value
                lines.append(f"chunk {chunk.index}: server {chunk.status.value} ({chunk.source})")
        return "\n".join(lines) or None
