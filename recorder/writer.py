"""RecordingWriter: feeds captured PCM through the journal and chunker into committed spool chunks.

Order per `write()`: journal first (so a crash right after loses nothing), then the chunker; each
chunk it cuts is encoded, encrypted and committed, and only then is the journal replaced by the
remainder. A crash between a commit and the journal reset is harmless: recovery skips the
journal frames that a committed chunk already covers. Runs in the writer thread, never in the
audio callback (encoding a chunk takes a fraction of a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from recorder.chunker import Chunker
from recorder.encoder import EncoderSettings
from recorder.errors import SpoolError
from recorder.journal import Journal, WriterLock
from recorder.states import RecordingState

if TYPE_CHECKING:
    from recorder.spool import ChunkRow, RecordingRow, Spool


def as_mono_float32(pcm: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    """Check and normalise one block: 1-D (or one column) floats; NaN/inf become silence/full scale.

    Integer PCM is refused (its scale is ambiguous); non-finite samples would poison the
    chunker's energies and the encoder.
    """
    array = np.asarray(pcm)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"RecordingWriter.write expects mono PCM, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"RecordingWriter.write expects float PCM in -1..1, got {array.dtype}")
    samples = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(samples).all():
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return samples


class RecordingWriter:
    """Writes one recording; create it with `spool.writer(recording_id)`."""

    def __init__(
        self,
        spool: Spool,
        recording: RecordingRow,
        settings: EncoderSettings,
        lock: WriterLock,
        *,
        sync_interval_s: float = 1.0,
    ) -> None:
        from recorder.spool import JOURNAL_NAME

        self._spool = spool
        self.recording_id = recording.recording_id
        self.sample_rate = recording.sample_rate
        self._settings = settings
        self._lock = lock
        self._chunker = Chunker(
            recording.sample_rate,
            recording.chunk_min_s,
            recording.chunk_max_s,
            window_s=min(0.3, recording.chunk_min_s),
        )
        existing = spool.chunks(recording.recording_id)
        self._next_index = max((c.index for c in existing), default=-1) + 1
        self._committed_frames = max((c.start_frame + c.frames for c in existing), default=0)
        self._journal = Journal(
            spool.root / recording.recording_id / JOURNAL_NAME,
            spool.cipher,
            recording.recording_id,
            sync_interval_s=sync_interval_s,
        )
        self._closed = False
        self._failed: SpoolError | None = None
        # A journal left by a crash of this recording (resumed without recovery) is carried
        # over into the chunk in progress, never overwritten.
        carried = self._journal_tail(spool, recording)
        self.carried_over_rows: list[ChunkRow] = []  # committed from a leftover journal
        try:
            self._journal.reset(self._committed_frames, carried)
        except OSError as error:
            raise spool.disk_error(self.recording_id, error) from error
        # frames in a committed chunk or in the journal (a failed write cannot lose them)
        self._frames_kept = self._committed_frames + len(carried)
        if len(carried):
            self.carried_over_rows = self._chunk_and_commit(carried)

    def _journal_tail(self, spool: Spool, recording: RecordingRow) -> npt.NDArray[np.float32]:
        from recorder.journal import keep_damaged_journal, read_journal

        found = read_journal(self._journal.path, spool.cipher, recording.recording_id)
        if found is None:
            return np.zeros(0, dtype=np.float32)
        start, pcm, damaged = found
        if damaged:
            keep_damaged_journal(self._journal.path)  # before the journal is started afresh
        return pcm[max(0, self._committed_frames - start) :]

    @property
    def frames_written(self) -> int:
        """Frames accepted so far (committed chunks plus the chunk in progress)."""
        return self._committed_frames + self._chunker.buffered

    @property
    def chunks_committed(self) -> int:
        """How many chunks this recording has in the spool."""
        return self._next_index

    def write(self, pcm: npt.NDArray[np.float32]) -> list[ChunkRow]:
        """Journal and chunk `pcm`; return the chunks committed (queued) by this call."""
        self._check_usable()
        samples = as_mono_float32(pcm)
        if not len(samples):
            return []
        try:
            self._journal.append(samples)
        except OSError as error:
            raise self._fail(error) from error
        self._frames_kept += len(samples)
        return self._chunk_and_commit(samples)

    def _chunk_and_commit(self, samples: npt.NDArray[np.float32]) -> list[ChunkRow]:
        rows = [self._commit(chunk) for chunk in self._chunker.write(samples)]
        if rows:
            try:
                self._journal.reset(self._committed_frames, self._chunker.pending())
            except OSError as error:
                raise self._fail(error) from error
        return rows

    def cut(self) -> list[ChunkRow]:
        """Commit the chunk in progress now, however short, and keep the recording open.

        For when the input is lost mid-recording: what was captured becomes uploadable at once
        instead of waiting in the journal until the input returns; later audio starts the
        next chunk.
        """
        self._check_usable()
        last = self._chunker.flush()
        if last is None:
            return []
        row = self._commit(last)
        try:
            self._journal.reset(self._committed_frames, self._chunker.pending())
        except OSError as error:
            raise self._fail(error) from error
        return [row]

    def close(self, state: RecordingState = RecordingState.RECORDED) -> list[ChunkRow]:
        """Commit the last (shorter) chunk, set the recording's final state, drop the journal.

        After a disk failure, the recording stays RECORDING with its journal, so the next
        start's `recover_interrupted()` saves what the journal holds.
        """
        if self._closed:
            return []
        rows: list[ChunkRow] = []
        try:
            if self._failed is None:
                last = self._chunker.flush()
                if last is not None:
                    rows.append(self._commit(last))
                self._spool.set_recording_state(self.recording_id, state)
                self._journal.remove()
        finally:
            self._closed = True
            self._journal.close()
            self._spool._writer_closed(self.recording_id, self._lock)
        return rows

    def _commit(self, pcm: npt.NDArray[np.float32]) -> ChunkRow:
        try:
            row = self._spool.commit_chunk(
                self.recording_id, self._next_index, self._committed_frames, pcm, self._settings
            )
        except SpoolError as error:  # said again with all the audio kept (the journal's too)
            self._failed = self._spool.disk_error(
                self.recording_id, error.__cause__ or error, self._recorded_s()
            )
            raise self._failed from error
        self._next_index += 1
        self._committed_frames += len(pcm)
        return row

    def _fail(self, error: OSError) -> SpoolError:
        self._failed = self._spool.disk_error(self.recording_id, error, self._recorded_s())
        return self._failed

    def _recorded_s(self) -> float:
        """Seconds of this recording kept: in committed chunks or in the journal."""
        return self._frames_kept / self.sample_rate

    def _check_usable(self) -> None:
        if self._closed:
            raise SpoolError("This recording writer is closed.")
        if self._failed is not None:
            raise self._failed
