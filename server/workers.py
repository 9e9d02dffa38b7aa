"""A bounded pool of transcription threads fed from the persisted queue."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from server.audio import AudioRejected, DecodedAudio, check_integrity
from server.languages import LanguageUnsupported
from server.store import Job, Store
from server.transcriber import Transcriber
from server.windows import windows

log = logging.getLogger("server.workers")


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
        """Stop taking work. A transcription in progress is left WORKING and resumed next start."""
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

    def _process(self, job: Job) -> None:
        started = time.monotonic()
        try:
            if job.language_code:  # e.g. set under a multilingual model, now English-only
                self._transcriber.language_for(job.language_code)
            path = self._audio_dir / job.audio_file
            check_integrity(path)
            audio = DecodedAudio(path)  # decoded and transcribed a window at a time
            text = self._transcriber.transcribe_windows(windows(audio), job.language_code)
            duration = audio.seconds
        except (AudioRejected, LanguageUnsupported) as error:
            if self._store.fail(job, str(error)):
                self._forget_audio(job)
            log.info("chunk %s FAILED: %s", job.public_id, error)
            return
        except Exception as error:  # a model or decoder crash must not stall the queue
            log.exception("chunk %s could not be transcribed", job.public_id)
            if self._store.fail(job, f"transcription failed ({type(error).__name__})"):
                self._forget_audio(job)
            return
        if self._store.complete(job, text, duration):
            self._forget_audio(job)
            log.info(
                "chunk %s READY (%.1f s of audio in %.2f s)",
                job.public_id,
                duration,
                time.monotonic() - started,
            )
        else:
            log.info("chunk %s was replaced while being transcribed", job.public_id)
