"""Wires the main window to the core: user intent → core calls, core events → widgets.

The only module with UI logic. Every core call that may wait (start_recording
opens the device, retry/resume/settings touch SQLite and the keyring, device
listing queries PortAudio) runs off the GUI thread via `run_in_background`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from recorder.atomic_file import write_atomically
from recorder.audio import MicrophoneSpec
from recorder.core import ConsultMeta
from recorder.errors import RecorderError
from recorder.events import (
    CaptureProblem,
    ChunkRecorded,
    ChunkStateChanged,
    ConnectionChanged,
    ElapsedChanged,
    ErrorOccurred,
    RecordingStateChanged,
    SessionStateChanged,
    TranscriptUpdated,
)
from recorder.logs import audit
from recorder.settings import Settings
from recorder.states import ChunkState, RecordingState, SessionState
from ui.bridge import EventBridge
from ui.close_guard import RECORDING_BUSY, CloseGuard, Confirm, ask_user
from ui.core_api import CoreApi
from ui.dialog_flows import RecoveryFlow, SettingsFlow
from ui.main_window import MainWindow, app_icon
from ui.models import INPUT_LOST_TEXT
from ui.recovery_dialog import RecoveryDialog
from ui.settings_dialog import SettingsDialog
from ui.tray import Tray, tray_available
from ui.worker import run_in_background

log = logging.getLogger(__name__)

CAPTURING = (SessionState.RECORDING, SessionState.PAUSED)
STARTABLE = (SessionState.IDLE, SessionState.DONE, SessionState.FAILED)
SENDING_TEXT = "Recording stopped. Sending the last chunks — nothing is lost."


class Controller(QObject):
    """Owns the session view state; the window and the core never talk directly."""

    def __init__(
        self,
        core: CoreApi,
        bridge: EventBridge,
        window: MainWindow,
        source: Any = None,
        confirm: Confirm = ask_user,
        use_tray: bool | None = None,
        quit_app: Callable[[], None] = QApplication.quit,
    ) -> None:
        super().__init__(window)
        self.core = core
        self.bridge = bridge
        self.window = window
        self.source = source  # a SourceSpec overriding the device picker (file as microphone)
        self.state = SessionState.IDLE
        self.recording_id: str | None = None
        self.waiting_uploads = 0
        self.input_lost = False  # the microphone is lost and being reopened (still recording)
        self.connection: ConnectionChanged | None = None
        self.settings_problem: str | None = None  # shown until usable settings are saved
        # the last transcript of each recording, also of those not on screen: a recording
        # offered at start may be finished by the uploads before the user answers the offer
        self._transcripts: dict[str, TranscriptUpdated] = {}
        self._unfinished: set[str] = set()  # recordings seen whose `:finish` is still to come
        self._finished: set[str] = set()  # a late "recorded" event must not undo a finish
        self.settings_flow = SettingsFlow(core, window, self._settings_applied, self._show_error)
        self.recovery_flow = RecoveryFlow(core, window, self._resuming, self._show_error)
        self._starting = False
        self._require_consent = core.settings.require_consent
        use_tray = tray_available() if use_tray is None else use_tray
        tray = Tray(app_icon(), self) if use_tray else None
        self.guard = CloseGuard(
            window, tray, self.busy_reason, self.shutdown_core, confirm, quit_app
        )
        self._wire()
        w = window
        w.session.set_consent_required(self._require_consent)
        w.session.set_language_code(core.settings.language_code)
        if source is not None:
            w.devices.combo.setItemText(0, f"File: {Path(str(source.path)).name}")
            w.devices.lock(True)
        self._update_can_start()

    # --- wiring ---------------------------------------------------------------------------
    def _wire(self) -> None:
        w, b = self.window, self.bridge
        b.session_state.connect(self._on_session)
        b.level.connect(w.level.update_level)
        b.elapsed.connect(self._on_elapsed)
        b.capture_problem.connect(w.status.show_problem)
        b.capture_problem.connect(self._on_capture_problem)
        b.error.connect(w.status.show_problem)
        b.error.connect(self._on_error)
        b.connection.connect(self._on_connection)
        b.any_event.connect(self._on_any_event)
        w.controls.record_clicked.connect(self.record)
        w.controls.pause_clicked.connect(lambda: self._call(self.core.pause))
        w.controls.resume_clicked.connect(lambda: self._call(self.core.resume))
        w.controls.stop_clicked.connect(self.stop)
        w.session.changed.connect(self._update_can_start)
        w.devices.refresh_requested.connect(self.refresh_devices)
        w.chunks.retry_requested.connect(self.retry)
        w.transcript.export_requested.connect(self.export_transcript)
        w.settings_action.triggered.connect(self.open_settings)
        w.quit_action.triggered.connect(self.guard.quit)

    def start(self) -> None:
        """Start the core, list devices, then offer unfinished recordings for upload."""
        self.core.start()
        if self.source is None:
            self.refresh_devices()
        self.recovery_flow.offer()

    # --- events -----------------------------------------------------------------------------
    def _on_any_event(self, event: object) -> None:
        if isinstance(event, TranscriptUpdated):
            self._transcripts[event.recording_id] = event
        self.window.chunk_model.apply(event)
        if self.window.transcript_model.apply(event):
            self.window.transcript.refresh()
        if isinstance(event, RecordingStateChanged):
            if event.state in (RecordingState.FINISHED, RecordingState.DONE):
                self._finished.add(event.recording_id)
                self._unfinished.discard(event.recording_id)
            elif event.recording_id not in self._finished:
                self._unfinished.add(event.recording_id)
        if isinstance(event, ChunkStateChanged) and event.state is ChunkState.UPLOADED:
            self.window.status.chunk_uploaded()
        if isinstance(event, ChunkRecorded | ChunkStateChanged | RecordingStateChanged):
            self._show_connection()
            self._update_tray()

    def _on_error(self, event: ErrorOccurred) -> None:
        """Unusable settings: uploads wait, so open Settings at once for the user to fix them."""
        if event.where == "settings":
            self.settings_problem = event.message
            self.settings_flow.open(problem=event.message)

    def _on_session(self, event: SessionStateChanged) -> None:
        w = self.window
        if event.recording_id is not None and event.state in CAPTURING:
            if event.recording_id != self.recording_id:  # a new consult starts at 0:00, not
                w.controls.set_elapsed(0.0)  # at the last one's time (shown while paused)
            self.recording_id = event.recording_id
        self.state = event.state
        capturing = event.state in CAPTURING
        self.input_lost = self.input_lost and capturing
        w.controls.set_state(event.state)
        w.level.set_active(event.state is SessionState.RECORDING)
        closing = self.guard.quitting  # saving before quitting: nothing may change any more
        w.session.lock(capturing or event.state is SessionState.FINISHING or closing)
        w.devices.lock(capturing or self.source is not None or closing)
        if event.state is SessionState.FINISHING:
            w.session.reset_for_next_consult()
        if closing:
            w.status.showMessage(self.guard.closing_text)  # not "sending": the app is quitting
        elif event.state is SessionState.FINISHING:
            w.status.showMessage(SENDING_TEXT)
        elif event.state is SessionState.DONE or w.status.currentMessage() == SENDING_TEXT:
            # FAILED after FINISHING too (microphone gone for good): "Sending the last chunks"
            # stayed for good, long after every chunk was uploaded
            w.status.showMessage(self._saved_text(), 15_000)
        if event.state is SessionState.FAILED:
            w.status.show_error(
                event.reason or "Recording stopped by a problem; the audio so far is kept."
            )
        self._update_can_start()
        self._update_tray()
        self._update_title()

    def _on_capture_problem(self, event: CaptureProblem) -> None:
        if event.kind not in ("input_lost", "input_back"):
            return
        self.input_lost = event.kind == "input_lost" and self.state in CAPTURING
        self._update_tray()
        self._update_title()

    def _update_title(self) -> None:
        """The taskbar shows whether a consult is being recorded, even with the window behind.

        A lost microphone says so there too: "● Recording" while nothing is heard would lie.
        """
        if self.input_lost:
            lost = INPUT_LOST_TEXT
            paused = self.state is SessionState.PAUSED
            state: str | None = f"⚠ Paused, {lost}" if paused else f"⚠ {lost.capitalize()}"
        else:
            prefix = {SessionState.RECORDING: "● Recording", SessionState.PAUSED: "Paused"}
            state = prefix.get(self.state)
        self.window.setWindowTitle(f"{state} — Ambient Recorder" if state else "Ambient Recorder")

    def _on_elapsed(self, event: ElapsedChanged) -> None:
        if event.recording_id == self.recording_id:
            self.window.controls.set_elapsed(event.elapsed_s)

    def _on_connection(self, event: ConnectionChanged) -> None:
        self.waiting_uploads = event.waiting_chunks
        self.connection = event
        self._show_connection()

    def _show_connection(self) -> None:
        """The connection line, counting chunks recorded since the core last reported."""
        if self.connection is None:
            return
        waiting = self.pending_uploads()
        event = self.connection
        if waiting != event.waiting_chunks:
            event = dataclasses.replace(event, waiting_chunks=waiting)
        self.window.status.show_connection(event, self.core.settings.region)
        self._update_tray()
        shown = self.window.status.currentMessage()
        if shown.startswith("Recording saved") and shown != self._saved_text():
            self.window.status.showMessage(self._saved_text(), 15_000)  # the count moved on

    def _saved_text(self) -> str:
        """What the status bar says once a recording is saved, with the uploads still to go."""
        pending = self.pending_uploads()
        if pending:
            return f"Recording saved. {pending} chunk(s) still uploading — nothing is lost."
        return "Recording saved; every chunk uploaded."

    # --- actions ----------------------------------------------------------------------------
    def _update_can_start(self) -> None:
        w = self.window
        if self._starting:
            w.controls.set_can_start(False, "Starting…")
        elif self._require_consent and not w.session.consent_given():
            w.controls.set_can_start(False, "Tick the consent box to start recording.")
        else:
            w.controls.set_can_start(self.state in STARTABLE)

    def record(self) -> None:
        """Start a recording with the consult details; the device opens off the GUI thread."""
        w = self.window
        if self._starting or self.state not in STARTABLE or self.guard.quitting:
            return
        consent = w.session.consent_given()
        if self._require_consent and not consent:
            return
        meta = ConsultMeta(
            patient_ref=w.session.patient_ref(),
            consent_obtained=consent,
            language_code=w.session.language_code(),
        )
        device = w.devices.selected_device()
        source = self.source or MicrophoneSpec(device=device)
        self._starting = True
        self._update_can_start()

        def start() -> str:
            with contextlib.suppress(RecorderError):  # a choice not remembered must not block
                self.core.remember_choices(input_device=device, language_code=meta.language_code)
            return self.core.start_recording(source, meta)

        run_in_background(start, self._started, self._start_failed, owner=self)

    def _started(self, recording_id: object) -> None:
        self._starting = False
        self.recording_id = str(recording_id)
        self.window.chunk_model.show_recording(self.recording_id)
        self.window.transcript_model.show_recording(self.recording_id)
        self.window.transcript.refresh()
        self.window.status.clear_error()
        self._update_can_start()

    def _start_failed(self, error: BaseException) -> None:
        self._starting = False
        self._show_error(error)
        reason = str(error) or type(error).__name__
        self.window.controls.show_start_problem(f"Not recording — it did not start: {reason}")
        self._update_can_start()

    def stop(self) -> None:
        """Stop capture; the uploads go on, and the status bar says so."""
        self._call(self.core.stop)

    def retry(self, recording_id: str, index: int) -> None:
        """Send a rejected or failed chunk again."""
        run_in_background(
            lambda: self.core.retry_chunk(recording_id, index), None, self._show_error, owner=self
        )

    def refresh_devices(self) -> None:
        """List input devices (off the GUI thread) and show them."""
        preferred = self.core.settings.input_device
        run_in_background(
            self.core.list_devices,
            lambda devices: self.window.devices.set_devices(devices, preferred),
            self._show_error,
            owner=self,
        )

    def export_transcript(self, path: str) -> None:
        """Write the transcript as shown (gaps marked) to `path`, off the GUI thread."""
        text = self.window.transcript_model.text()
        target = Path(path)
        recording_id = self.window.transcript_model.recording_id

        def write() -> None:
            try:
                write_atomically(target, (text + "\n").encode("utf-8"))
            except OSError as error:
                reason = error.strerror or str(error)
                raise RecorderError(f"Cannot save the transcript to {target}: {reason}") from error
            # patient data left the app: say so for IT (not the file's name: it may name them)
            audit("transcript.exported", recording=recording_id, chars=len(text))

        run_in_background(
            write,
            lambda _r: self.window.status.showMessage(f"Transcript saved to {target}", 10_000),
            self._show_error,
            owner=self,
        )

    def _call(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as error:  # every core error is shown, never lost
            self._show_error(error)

    def _show_error(self, error: BaseException) -> None:
        self.window.status.show_error(str(error) or type(error).__name__)

    # --- settings and recovery ----------------------------------------------------------------
    def open_settings(self) -> None:
        """Open the settings dialog; Save applies them through the core, off the GUI thread."""
        self.settings_flow.open(problem=self.settings_problem)

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        """The settings dialog last opened (None before)."""
        return self.settings_flow.dialog

    @property
    def recovery_dialog(self) -> RecoveryDialog | None:
        """The unfinished-recordings dialog, once the core reported any."""
        return self.recovery_flow.dialog

    def _settings_applied(self, settings: Settings) -> None:
        self._require_consent = settings.require_consent
        self.window.session.set_consent_required(settings.require_consent)
        self._update_can_start()
        if self.settings_problem is not None:  # fixed: the queued chunks upload now
            self.settings_problem = None
            self.window.status.clear_error()
        self.window.status.showMessage("Settings saved.", 10_000)

    def _resuming(self, recording_ids: list[str]) -> None:
        if recording_ids and self.state not in CAPTURING and not self._starting:
            self.recording_id = recording_ids[0]
            self.window.chunk_model.show_recording(recording_ids[0])
            self.window.transcript_model.show_recording(recording_ids[0])
            known = self._transcripts.get(recording_ids[0])
            if known is not None:  # already transcribed while the offer was on screen
                self._on_any_event(known)
            self.window.transcript.refresh()

    # --- closing ------------------------------------------------------------------------------
    def pending_uploads(self) -> int:
        """Chunks not yet uploaded, as the events tell (rejected ones wait for the user)."""
        in_view = sum(
            1
            for row in self.window.chunk_model.rows()
            if row.local not in (ChunkState.UPLOADED, ChunkState.REJECTED)
        )
        return max(self.waiting_uploads, in_view)

    def busy_reason(self) -> str:
        """Why quitting now would interrupt work, or '' when it would not."""
        if self.state in CAPTURING or self._starting:
            return RECORDING_BUSY
        pending = self.pending_uploads()
        if pending == 1:
            return "1 chunk is still waiting to upload"
        if pending or self.state is SessionState.FINISHING:
            return f"{pending or 'Some'} chunks are still waiting to upload"
        return ""

    def shutdown_core(self, on_done: Callable[[], None]) -> None:
        """Stop capture if running (audio so far is kept) and shut the core down, off the GUI
        thread: flushing the last chunk takes a while and the window must not freeze. `on_done`
        runs on the GUI thread once the core is shut down (also after an error, shown)."""
        core = self.core  # the worker's job holds no Qt object (they are freed on this thread)
        capturing = self.state in CAPTURING or self._starting

        def shut_down() -> None:
            try:
                if capturing:
                    core.stop()
            finally:
                core.shutdown(wait_for_uploads_s=0)

        def failed(error: BaseException) -> None:
            if shiboken6.isValid(self.window):
                self._show_error(error)
            else:  # the window was freed meanwhile: the log keeps it
                log.warning("Shutting the recorder down failed: %s", error)
            on_done()

        # no owner: `on_done` must run (it quits the app) even once the window is freed
        run_in_background(shut_down, lambda _result: on_done(), failed)

    def work_done(self) -> bool:
        """Nothing recorded, waiting to upload or waiting for its `:finish` (a recording with a
        rejected chunk never finishes: the app then stays, for the user to retry it)."""
        return not self.busy_reason() and not self._unfinished

    def _update_tray(self) -> None:
        if self.guard.tray is not None:
            self.guard.tray.update_state(self.state, self.pending_uploads(), self.input_lost)
            self.guard.work_changed(self.work_done())
