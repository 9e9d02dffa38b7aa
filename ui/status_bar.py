"""The status bar: where uploads go and whether they get there, and the last error in words."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QStyle, QWidget

from recorder.events import CaptureProblem, ConnectionChanged, ErrorOccurred
from ui import status_style
from ui.elided_label import ElidedLabel
from ui.spoken_label import spoken
from ui.status_style import Tone


def connection_text(event: ConnectionChanged, region: str = "") -> tuple[str, Tone]:
    """What the connection line says, and how it should look."""
    waiting = event.waiting_chunks
    plural = "chunk" if waiting == 1 else "chunks"
    if event.mode == "offline" and not event.last_error:  # starting up or reconnecting
        text = "Connecting to the transcription server…"
        if waiting:
            text += f" — {waiting} {plural} waiting to upload"
        return text, Tone.WARN
    if event.mode == "offline":
        text = f"Offline — {waiting} {plural} waiting to upload"
        if event.detail:
            text += f" ({event.detail})"
        return text, Tone.BAD if waiting else Tone.WARN
    if event.mode == "heidi":
        text = f"Connected to Heidi {region}".rstrip()
        if event.detail:
            text += f" ({event.detail})"
    elif event.mode == "local":
        text = "Local transcription server on this computer"
    else:
        text = f"{event.mode}: {event.detail}"
    if waiting:
        text += f" — {waiting} {plural} to upload"
    return text, Tone.GOOD


def problem_tone(kind: str) -> Tone:
    """How a CaptureProblem of `kind` should look (ErrorOccurred passes '').

    A lost microphone is bad (nothing is being recorded); once it is back the gap's mark is
    a warning (the recording goes on). So is a recording stopped by a full disk once saved.
    """
    return Tone.WARN if kind in ("input_back", "disk_back") else Tone.BAD


def error_tone(event: ErrorOccurred) -> Tone:
    """How an ErrorOccurred should look: the core's warnings (the spool key kept in a user-only
    file: a notice for IT, recording and uploads work) in the warning tone, errors as errors."""
    return Tone.WARN if event.severity == "warning" else Tone.BAD


# a screen reader hears the role and the text ("Connection status: Offline — …"): with only
# the name set, a QLabel's text is never read out
CONNECTION_ROLE = "Connection status"
ERROR_ROLE = "Last error"
MAX_ERROR_PX = 520  # long messages are elided (tooltip has them whole) so the window never widens
MAX_CONNECTION_PX = 560


def _elided(label: QLabel, text: str, width: int) -> str:
    return label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width)


def notices_text(notices: list[str]) -> str:
    """Several warnings in one line, counted first: the line is elided, the count is not."""
    if len(notices) == 1:
        return notices[0]
    numbered = " ".join(f"{number}. {notice}" for number, notice in enumerate(notices, 1))
    return f"{len(notices)} notices: {numbered}"


class StatusBar(QStatusBar):
    """Connection state (permanent, left) and the last error (right)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.connection_icon = QLabel()
        # where uploads go is elided last: 'Local transcription server on this computer' whole
        self.connection = ElidedLabel("Starting…", min_chars=45)
        self.connection.setAccessibleName(spoken(CONNECTION_ROLE, self.connection.text()))
        self.error_icon = QLabel()
        self.error = ElidedLabel()
        self.error.setAccessibleName(ERROR_ROLE)
        self.addWidget(self.connection_icon)
        self.addWidget(self.connection, 1)
        self.addPermanentWidget(self.error_icon)
        self.addPermanentWidget(self.error)
        self._set_icon(self.connection_icon, Tone.NEUTRAL)
        self.error_icon.hide()
        self.error_tone = Tone.NEUTRAL  # how the last message is shown (BAD, WARN; NEUTRAL: past)
        self._message = ""  # the message shown, without its time stamp
        self._stamp = ""
        self._about_link = False  # the message is why the link is down: past once it is back
        self._about_queue = False  # the upload queue's problem: past once a chunk uploads
        self._notices: list[str] = []  # the warnings shown together (IT notices at start)
        self._link_error: str | None = None  # why the link is down, as last reported

    def _set_icon(self, label: QLabel, tone: Tone) -> None:
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        label.setPixmap(status_style.icon(tone).pixmap(size, size))

    def show_connection(self, event: ConnectionChanged, region: str = "") -> None:
        """Update the connection line from a ConnectionChanged event (`region`: a user label)."""
        text, tone = connection_text(event, region)
        self.connection.setText(_elided(self.connection, text, MAX_CONNECTION_PX))
        self.connection.setAccessibleName(spoken(CONNECTION_ROLE, text))  # whole, not elided
        self.connection.setToolTip(event.last_error or f"{text}\n{event.detail}".strip())
        self._set_icon(self.connection_icon, tone)
        if event.last_error and event.mode == "offline":
            # said once when it happens: the same event again (the controller re-sends it with
            # a new waiting count on every chunk) must not hide a newer message under it
            if event.last_error != self._link_error:
                self.show_error(event.last_error, about_link=True)
            self._link_error = event.last_error
            return
        self._link_error = None
        if event.mode != "offline" and self._about_link and self.error_tone is not Tone.NEUTRAL:
            self._show_as_past()

    def show_error(self, message: str, tone: Tone = Tone.BAD, about_link: bool = False) -> None:
        """Show an error in plain words, with the time it happened (full text in the tooltip).

        `about_link`: it says why uploads cannot get through (server unreachable, sign-in
        refused); once connected again it is shown as past. Any other error stays as it is.
        """
        self._stamp = time.strftime("%H:%M")
        self._message = message
        self._about_link = about_link
        self._about_queue = False
        self._notices = []
        self._show(f"{self._stamp} {message}", message, tone)

    def _show(self, line: str, tip: str, tone: Tone) -> None:
        self.error.setText(_elided(self.error, line, MAX_ERROR_PX))
        self.error.setAccessibleName(spoken(ERROR_ROLE, line))  # whole, not elided
        self.error.setToolTip(tip)
        if tone is Tone.NEUTRAL:
            self.error_icon.hide()
        else:
            self._set_icon(self.error_icon, tone)
            self.error_icon.show()
        self.error_tone = tone

    def _show_as_past(self, since: str = "Connected again since then.") -> None:
        """The link is back: why it was down stays readable, no longer red ("Earlier, 10:32: …")."""
        line = f"Earlier, {self._stamp}: {self._message}"
        self._show(line, f"{line}\n{since}", Tone.NEUTRAL)

    def chunk_uploaded(self) -> None:
        """A chunk went up: an upload queue problem shown (a full data folder, say) is over.

        It used to stay red after the disk was freed and every chunk was transcribed.
        """
        if self._about_queue and self.error_tone is not Tone.NEUTRAL:
            self._show_as_past("Uploads have gone on since then.")

    def show_problem(self, event: ErrorOccurred | CaptureProblem) -> None:
        """Show an ErrorOccurred or CaptureProblem event.

        The no-keyring notice shows as a warning, not as a failure, and never hides an error
        shown before it (a failed export must not vanish behind a notice for IT; the notice
        is in the log). Warnings arriving one after another (no OS keyring, log not
        writable) are shown together, counted: the later one used to replace the earlier.
        The gap's "[no audio for N s: …]" after a lost microphone stays shown until the next
        message. An error from connecting (where="connection") is past once connected, one of
        the upload queue (where="upload_queue") once a chunk uploads (chunk_uploaded).
        """
        if isinstance(event, CaptureProblem):
            self.show_error(event.message, problem_tone(event.kind))
            return
        tone = error_tone(event)
        if tone is Tone.WARN and self.last_error() and self.error_tone is Tone.BAD:
            return
        if tone is Tone.WARN and self._notices and self.last_error():
            self._add_notice(event.message)
            return
        self.show_error(event.message, tone, about_link=event.where == "connection")
        self._about_queue = event.where == "upload_queue"
        if tone is Tone.WARN:
            self._notices = [event.message]

    def _add_notice(self, message: str) -> None:
        if message not in self._notices:
            self._notices.append(message)
        self._stamp = time.strftime("%H:%M")
        self._message = "\n".join(self._notices)
        self._show(f"{self._stamp} {notices_text(self._notices)}", self._message, Tone.WARN)

    def clear_error(self) -> None:
        """Remove the error message (e.g. after the problem was fixed)."""
        self.error.clear()
        self.error.setAccessibleName(ERROR_ROLE)
        self.error_icon.hide()
        self._message, self._about_link, self._notices = "", False, []

    def last_error(self) -> str:
        """The error message shown, without its time stamp ('' when none); several notices
        shown together one per line. Shown as past (error_tone NEUTRAL) it is still returned."""
        return self._message if self.error.text() else ""
