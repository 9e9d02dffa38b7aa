"""The live-transcript poller: follows `/transcript/live`, merges chunks, emits changes only.

Polls about every 2 s while audio is being recorded or a chunk is still
PENDING, about every 15 s otherwise; after `:finish` it fetches the final
`/transcript`. Chunks are ordered by the index in their id
(`<recording_id>-<index>`, the local server's form) and fall back to list
order. Text is handed to the event sink only; it is never logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from recorder.events import ErrorOccurred, EventSink, TranscriptChunk, TranscriptUpdated
from recorder.heidi.errors import HeidiError
from recorder.heidi.models import LiveTranscript, Transcript
from recorder.states import ServerStatus

log = logging.getLogger(__name__)

FAST_POLL_S = 2.0
SLOW_POLL_S = 15.0


def failed_chunks_text(indexes: list[int]) -> str:
    """Chunks named as the app lists them (from 1) and as the CLI and the API count them (the
    index, from 0): "chunk 2 (index 1)". The app's list said "chunk 2" where this said [1]."""
    numbers = ", ".join(str(i + 1) for i in indexes)
    indexed = ", ".join(str(i) for i in indexes)
    if len(indexes) == 1:
        return f"chunk {numbers} (index {indexed})"
    return f"chunks {numbers} (indexes {indexed})"


class TranscriptSource(Protocol):
    """The two client calls the poller needs (HeidiClient has them)."""

    def live_transcript(
        self, session_id: str, *, recording_status: str | None = None
    ) -> LiveTranscript: ...

    def transcript(self, session_id: str) -> Transcript: ...


class ServerStatusStore(Protocol):
    """Where per-chunk server status is remembered (the spool)."""

    def set_chunk_server_status(
        self, recording_id: str, index: int, status: str | None
    ) -> None: ...


def merge_live(
    live: LiveTranscript, remote_recording_id: str | None
) -> tuple[TranscriptChunk, ...]:
    """Chunks in upload order, one per index (a repeated index replaces the earlier one).

    The index comes from ids of the form `<recording_id>-<index>`; if any id does not have
    that form (Heidi does not document its ids), the server's list order is used for all.
    """
    parsed = [chunk.index_in(remote_recording_id) for chunk in live.chunks]
    if any(index is None for index in parsed):
        parsed = list(range(len(live.chunks)))
    by_index: dict[int, TranscriptChunk] = {}
    for index, chunk in zip(parsed, live.chunks, strict=True):
        assert index is not None
        by_index[index] = TranscriptChunk(
            index=index,
            chunk_id=chunk.chunk_id,
            status=chunk.status,
            text=chunk.text,
            duration_s=chunk.duration_s,
            source=chunk.source,
        )
    return tuple(by_index[i] for i in sorted(by_index))


def joined_text(chunks: tuple[TranscriptChunk, ...]) -> str:
    """The READY chunks' text in order, one space between chunks."""
    return " ".join(
        c.text.strip() for c in chunks if c.status is ServerStatus.READY and c.text.strip()
    )


class TranscriptPoller:
    """Follows one recording's live transcript in a background thread (or by `poll_once`)."""

    def __init__(
        self,
        client: TranscriptSource,
        recording_id: str,
        session_id: str,
        on_event: EventSink,
        *,
        active: Callable[[], bool] = lambda: True,
        remote_recording_id: str | None = None,
        spool: ServerStatusStore | None = None,
        fast_s: float = FAST_POLL_S,
        slow_s: float = SLOW_POLL_S,
    ) -> None:
        self._client = client
        self.recording_id = recording_id
        self.session_id = session_id
        self._emit = on_event
        self._active = active
        self._remote_id = remote_recording_id
        self._spool = spool
        self._fast_s = fast_s
        self._slow_s = slow_s
        self._latest: TranscriptUpdated | None = None
        self._server_status: dict[int, ServerStatus] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def latest(self) -> TranscriptUpdated | None:
        """The last transcript emitted (live or final)."""
        return self._latest

    # ---- one step ----------------------------------------------------------------------------

    def poll_once(self) -> TranscriptUpdated | None:
        """Fetch the live transcript once; emit and return it if anything changed."""
        live = self._client.live_transcript(self.session_id)
        chunks = merge_live(live, self._remote_id)
        text = joined_text(chunks) or (live.transcript if not chunks else "")
        return self._publish(chunks, text, final=False)

    def fetch_final(self) -> TranscriptUpdated:
        """After `:finish`: the final transcript (and the chunks' last statuses), emitted final."""
        # The final GET waits for transcription to end, so the statuses read after it are final.
        final = self._client.transcript(self.session_id)
        try:
            chunks = merge_live(self._client.live_transcript(self.session_id), self._remote_id)
        except HeidiError as error:  # the final text matters more than the statuses
            log.info("live transcript after final failed: %s", type(error).__name__)
            chunks = self._latest.chunks if self._latest else ()
        failed = [c.index for c in chunks if c.status is ServerStatus.FAILED]
        if failed:
            self._emit(
                ErrorOccurred(
                    message=f"The server could not transcribe {failed_chunks_text(failed)}: "
                    "the transcript has gaps there (the audio is kept).",
                    where="transcript",
                    extra={"recording_id": self.recording_id},
                )
            )
        published = self._publish(chunks, final.transcript, final=True, force=True)
        assert published is not None
        return published

    def _publish(
        self,
        chunks: tuple[TranscriptChunk, ...],
        text: str,
        *,
        final: bool,
        force: bool = False,
    ) -> TranscriptUpdated | None:
        with self._lock:
            previous = self._latest
            if previous is not None and previous.final and not final:
                return None  # a slow live poll answering after the final one changes nothing
            self._record_statuses(chunks)
            if (
                not force
                and previous is not None
                and previous.chunks == chunks
                and previous.transcript == text
            ):
                return None
            event = TranscriptUpdated(
                recording_id=self.recording_id,
                session_id=self.session_id,
                chunks=chunks,
                transcript=text,
                final=final,
            )
            self._latest = event
        self._emit(event)
        return event

    def _record_statuses(self, chunks: tuple[TranscriptChunk, ...]) -> None:
        for chunk in chunks:
            if self._server_status.get(chunk.index) is chunk.status:
                continue
            self._server_status[chunk.index] = chunk.status
            if self._spool is not None:
                try:
                    self._spool.set_chunk_server_status(
                        self.recording_id, chunk.index, chunk.status.value
                    )
                except Exception as error:  # a chunk the spool does not know: keep polling
                    log.warning("could not store server status: %s", type(error).__name__)

    def any_pending(self) -> bool:
        """True while a chunk the server listed is still PENDING."""
        with self._lock:
            return any(s is ServerStatus.PENDING for s in self._server_status.values())

    # ---- background thread ------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"transcript-{self.recording_id[:8]}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Poll now (e.g. a chunk was just uploaded)."""
        self._wake.set()

    def interval(self) -> float:
        return self._fast_s if (self._active() or self.any_pending()) else self._slow_s

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
                self.last_error = None
            except HeidiError as error:
                self.last_error = str(error)
                log.info("live transcript poll failed: %s", type(error).__name__)
            except Exception:  # never let the thread die silently
                log.exception("live transcript poll crashed")
            self._wake.wait(self.interval())
            self._wake.clear()
