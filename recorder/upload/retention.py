"""Retention: audio is deleted only after upload AND the retention period after the transcript.

Only UPLOADED chunks of DONE recordings are touched; rejected or waiting audio is
never deleted, whatever its age.
"""

from __future__ import annotations

from recorder.logs import audit
from recorder.spool import RecordingRow, Spool
from recorder.states import ChunkState, RecordingState


def done_at(rec: RecordingRow) -> float:
    """When the recording became DONE: its last update (nothing updates a DONE recording)."""
    return rec.updated_at


def purge_expired(spool: Spool, retention_s: float, now: float) -> int:
    """Delete the audio of uploaded chunks of recordings DONE for longer than `retention_s`."""
    purged = 0
    for rec in spool.recordings():
        if rec.state is not RecordingState.DONE or now < done_at(rec) + retention_s:
            continue
        for chunk in spool.chunks(rec.recording_id):
            if chunk.state is ChunkState.UPLOADED and chunk.audio_deleted_at is None:
                spool.delete_chunk_audio(rec.recording_id, chunk.index)
                purged += 1
    if purged:
        audit("audio.deleted", reason="retention", chunks=purged, retention_h=retention_s / 3600)
    return purged
