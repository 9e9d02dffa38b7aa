"""A bounded pool of transcription threads fed from the persisted queue.

A chunk is transcribed window by window (server/windows.py). When a chunk has more than one
window (a long whole-file upload), each finished window's text is stored before the next
one starts: after a restart the chunk resumes at the first window not yet done, and between
two of its windows the worker transcribes the short chunks queued meanwhile, so live chunks
of other sessions do not wait for the whole file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from server.audio import SAMPLE_RATE, AudioRejected, DecodedAudio, check_integrity
from server.languages import LanguageUnsupported
from server.store import Job, Store, WindowDone
from server.transcriber import Transcriber
from server.windows import WINDOW_MAX_S, windows

log = logging.getLogger("server.workers")

# Chunks at most this long (two windows) are taken between two windows of a longer one.
SHORT_CHUNK_S = 2 * WINDOW_MAX_S

T = TypeVar("T")


def marking_last(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    """Each item with whether it is the last one (the next item is read ahead)."""
    iterator = iter(items)
    try:
        current = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield current, False
        current = following
    yield current, True


@dataclass(frozen=True)
class Transcribed:
    text: str
    windows: int
    kept: int  # windows whose text was stored by an earlier, interrupted run


class _Interrupted(Exception):
    """The pool is stopping or the chunk was replaced: leave it, record nothing."""


class WorkerPool:
    """N threads, each: claim the oldest queued chunk, decode and transcribe it window by
    window, record the result.

    A chunk that cannot be decoded ends FAILED with a reason and the thread moves on;
    any other error fails that chunk too, so nothing stalls the queue.
    """

    def __init__(
        self,
        store: Store,
        transcriber: Transcriber,
        audio_dir: Path,
        workers: int = 1,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._transcriber = transcriber
        self._audio_dir = audio_dir
        self._count = max(1, workers)
        self._wake = threading.Condition()
        self._pending_wakeups = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._on_done = on_done

    def start(self) -> None:
        """Resume interrupted work and clean up; call before the server takes requests."""
        self.sweep_orphans()
        recovered = self._store.recover()
        if recovered:
            log.info("resuming %d chunk(s) interrupted by the last shutdown", recovered)
        for n in range(self._count):
            thread = threading.Thread(target=self._run, name=f"transcriber-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """New work was queued."""
        with self._wake:
            self._pending_wakeups += 1
            self._wake.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop taking work. A transcription in progress is left WORKING; the next start resumes
        it at its first window not yet stored."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _wait_for_work(self) -> None:
        with self._wake:
            if self._pending_wakeups == 0 and not self._stopping:
                self._wake.wait(timeout=1.0)
            self._pending_wakeups = 0

    def _model_ready(self) -> bool:
        """Load the model before taking any chunk. If it cannot load, chunks stay queued
        (PENDING, nothing lost) and loading is retried, rather than failing every chunk."""
        delay = 5.0
        while not self._stopping:
            try:
                self._transcriber.load()
                return True
            except Exception as error:
                log.error("the model cannot be loaded (%s); retrying in %.0f s", error, delay)
                with self._wake:
                    self._wake.wait(timeout=delay)
                delay = min(delay * 2, 300.0)
        return False

    def _run(self) -> None:
        if not self._model_ready():
            return
        while not self._stopping:
            try:
                job = self._store.claim()
            except Exception:
                log.exception("could not read the queue")
                time.sleep(1.0)
                continue
            if job is None:
                self._wait_for_work()
                continue
            try:
                self._process(job)
            except Exception as error:  # e.g. the store closed under us at shutdown
                if self._stopping:
                    return  # the chunk stays WORKING and is resumed at the next start
                log.error("chunk %s: result not recorded (%s)", job.public_id, type(error).__name__)
            if self._on_done is not None:
                self._on_done()

    def _forget_audio(self, job: Job) -> None:
        """Audio is patient data: once its chunk is final the server keeps none of it.
        (The recorder keeps its own copy until its retention ends; a FAILED chunk is
        repaired by sending its index again.)"""
        (self._audio_dir / job.audio_file).unlink(missing_ok=True)

    def sweep_orphans(self) -> int:
        """Delete audio no pending chunk refers to (left by a crash between commit and delete)."""
        if not self._audio_dir.exists():
            return 0
        keep = self._store.pending_audio_files()
        removed = 0
        for path in self._audio_dir.iterdir():
            if path.name not in keep:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _process(self, job: Job, take_short_chunks: bool = True) -> None:
        started = time.monotonic()
        try:
            if job.language_code:  # e.g. set under a multilingual model, now English-only
                self._transcriber.language_for(job.language_code)
            path = self._audio_dir / job.audio_file
            check_integrity(path)
            audio = DecodedAudio(path)  # decoded and transcribed a window at a time
            result = self._transcribe(job, windows(audio), take_short_chunks)
            duration = audio.seconds
        except _Interrupted:
            return
        except (AudioRejected, LanguageUnsupported) as error:
            if self._store.fail(job, str(error)):
                self._forget_audio(job)
            log.info("chunk %s FAILED: %s", job.public_id, error)
            return
        except Exception as error:  # a model or decoder crash must not stall the queue
            if self._stopping:
                return  # e.g. the store closed under us at shutdown: resumed next start
            log.exception("chunk %s could not be transcribed", job.public_id)
            if self._store.fail(job, f"transcription failed ({type(error).__name__})"):
                self._forget_audio(job)
            return
        if self._store.complete(job, result.text, duration):
            self._forget_audio(job)
            log.info(
                "chunk %s READY (%.1f s of audio, %d window(s), %d kept from before a restart,"
                " in %.2f s)",
                job.public_id,
                duration,
                result.windows,
                result.kept,
                time.monotonic() - started,
            )
        else:
            log.info("chunk %s was replaced while being transcribed", job.public_id)

    def _transcribe(
        self, job: Job, parts: Iterable[NDArray[np.float32]], take_short_chunks: bool
    ) -> Transcribed:
        """Text of the windows joined as the segments of one clip are (single spaces,
        silent windows left out). A window stored by an earlier run is not transcribed
        again if it ends where it did (the same samples cut the same way); from the first
        one that does not, the windows are transcribed anew."""
        done = self._store.windows_done(job)
        if done:
            log.info(
                "chunk %s: resuming after %d window(s) transcribed before a restart",
                job.public_id,
                len(done),
            )
        texts: list[str] = []
        end = kept = 0
        for seq, (window, last) in enumerate(marking_last(parts)):
            end += len(window)
            if seq < len(done):
                if done[seq].end_sample == end:
                    texts.append(done[seq].text)
                    kept += 1
                    continue
                log.warning("chunk %s: window %d is cut differently now", job.public_id, seq)
                done = done[:seq]
            texts.append(self._transcriber.transcribe(window, job.language_code))
            if seq == 0 and last:
                break  # a single window (a live chunk): nothing to resume
            if not last and not self._store.save_window(job, WindowDone(seq, end, texts[-1])):
                log.info("chunk %s was replaced while being transcribed", job.public_id)
                raise _Interrupted  # its new audio is queued again
            log.info(  # once stored: each window is logged once, also across restarts
                "chunk %s: window %d transcribed (ends at %.2f s)",
                job.public_id,
                seq,
                end / SAMPLE_RATE,
            )
            if last:
                break
            if take_short_chunks:
                self._take_short_chunks()
            if self._stopping:
                raise _Interrupted  # stays WORKING; the next start resumes after this window
        return Transcribed(" ".join(t for t in texts if t), len(texts), kept)

    def _take_short_chunks(self) -> None:
        """Between two windows of a long chunk: transcribe the short chunks queued meanwhile
        (oldest first), so a live recording's transcript keeps up during a long upload."""
        while not self._stopping:
            short = self._store.claim(max_seconds=SHORT_CHUNK_S)
            if short is None:
                return
            self._process(short, take_short_chunks=False)
            if self._on_done is not None:
                self._on_done()
