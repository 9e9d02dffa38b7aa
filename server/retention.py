"""Retention: sessions idle for longer than the retention period are dropped, periodically.

Audio is already deleted as soon as its chunk is transcribed (or failed); what retention
removes is the rest of a session: fields, recordings, chunk rows and transcripts, and any
audio file still tied to them. A session with a chunk still waiting to be transcribed is
never touched, however old. The clock is injected so tests move time instead of sleeping.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from server.store import Store

log = logging.getLogger("server.retention")

DEFAULT_RETENTION_HOURS = 24.0
DEFAULT_PURGE_INTERVAL_S = 600.0
MIN_PURGE_INTERVAL_S = 0.05


class RetentionPurger:
    """Runs `purge_once` at start and then every interval, in a background thread."""

    def __init__(
        self,
        store: Store,
        audio_dir: Path,
        retention_hours: float,
        *,
        interval_s: float = DEFAULT_PURGE_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not retention_hours > 0:
            raise ValueError("retention_hours must be positive (inf keeps sessions forever)")
        self._store = store
        self._audio_dir = audio_dir
        self.retention_s = retention_hours * 3600.0
        # Purge at least four times per retention period, so nothing outlives it by much.
        self.interval_s = max(MIN_PURGE_INTERVAL_S, min(interval_s, self.retention_s / 4))
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return math.isfinite(self.retention_s)

    def purge_once(self) -> int:
        """Drop sessions idle for longer than the retention period; returns how many."""
        if not self.enabled:
            return 0
        purged = self._store.purge_idle(self._clock() - self.retention_s)
        for name in purged.audio_files:
            (self._audio_dir / name).unlink(missing_ok=True)
        if purged.sessions:
            log.info("retention: dropped %d idle session(s)", purged.sessions)
        return purged.sessions

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.purge_once()
            except Exception as error:  # a locked or closing database: try again later
                if self._stop.is_set():
                    return
                log.error("retention purge failed (%s)", type(error).__name__)
            self._stop.wait(self.interval_s)
