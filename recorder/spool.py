"""INTERFACE STUB — the storage work replaces this file with the real spool.

Durable, encrypted store of recordings and chunks: SQLite (WAL) index plus
encrypted files under <data_dir>/spool/. The uploader, session, CLI and UI
use exactly these names:

    spool = Spool.open(data_dir)                       # key from keyring / key file
    rec = spool.create_recording(sample_rate=16000, codec="vorbis", meta={...}) -> RecordingRow
    writer = spool.writer(rec.recording_id)            # RecordingWriter: chunker+encoder+journal
    rows = writer.write(pcm)                           # -> list[ChunkRow] committed by this call
    rows = writer.close(state=RecordingState.RECORDED) # flush last chunk, mark recording
    spool.recover_interrupted() -> list[RecordingRow]  # journal -> final chunk, INTERRUPTED
    spool.recordings() -> list[RecordingRow];  spool.recording(rid) -> RecordingRow
    spool.chunks(rid) -> list[ChunkRow];       spool.chunk(rid, index) -> ChunkRow
    spool.read_chunk_audio(rid, index) -> bytes        # decrypted OGG
    spool.set_chunk_state(rid, index, state, *, attempts=None, next_attempt_at=None, error=None)
    spool.set_chunk_server_status(rid, index, status: str | None)
    spool.set_recording_state(rid, state)
    spool.set_recording_remote(rid, *, session_id=None, remote_recording_id=None)
    spool.delete_chunk_audio(rid, index)               # after upload + retention
    spool.export(rid, out_dir) -> list[Path]           # plain <index>.ogg files
"""
