"""INTERFACE (the lead implements it): the one public API the desktop app uses.

    core = AmbientCore(on_event, data_dir=None, settings=None)
    core.start()                       # open spool, recover interrupted recordings, start the
                                       # upload service; start the local server when no Heidi
                                       # account is configured (non-blocking: events report)
    core.settings -> Settings          # recorder.settings.Settings
    core.apply_settings(settings, api_key: str | None = None)   # save (key -> keyring), reconnect
    core.list_devices() -> list[InputDevice]                    # recorder.audio
    core.start_recording(source: SourceSpec, meta: ConsultMeta) -> str   # recording_id
    core.pause(); core.resume(); core.stop()   # non-blocking; progress via events
    core.state -> SessionState
    core.retry_chunk(recording_id, index)
    core.unfinished_recordings() -> list[RecordingSummary]      # interrupted / still queued
    core.resume_uploads(recording_id)          # offer at start: upload what is left
    core.transcript_text(recording_id) -> str  # READY chunks in order
    core.connection -> ConnectionChanged       # the latest
    core.pending_uploads() -> int
    core.shutdown(wait_for_uploads_s: float = 0)

ConsultMeta(patient_ref: str = "", consent_obtained: bool, language_code: str = "en")
RecordingSummary(recording_id, state, created_at, chunks_total, chunks_uploaded, duration_s)

Every event from recorder.events goes to on_event, from worker threads.
"""
