"""Settings: Heidi account, network, chunk length, retention, consent requirement.

The dialog only collects and validates (with the core's own Settings.validate);
saving goes through the controller, off the GUI thread. The stored API key is
never shown back: only its last four characters, and a field to replace it. The
proxy password is never shown either: the proxy address without it, and an empty
password field that says whether one is stored.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from recorder.heidi.errors import ConfigError
from recorder.settings import (
    CHUNK_LIMITS_S,
    MAX_RECONNECT_MINUTES,
    Settings,
    SettingsError,
    split_proxy_password,
    validate_api_key,
    with_proxy_password,
)
from ui import status_style
from ui.spoken_label import SpokenLabel
from ui.status_style import Tone

REGIONS = ("", "AU", "US", "CA", "EU", "UK")
MAX_RETENTION_HOURS = 24 * 365
NOTE_MIN_PX = 420
WINDOW_FRAME_PX = 60  # title bar and frame the window manager adds around the dialog
MIN_BODY_PX = 120
NEW_KEY_WHERE = "The key in 'Replace key'"
KEY_UNKNOWN = "Unknown (the password store failed); a stored key is kept"


# the core names settings as stored; the dialog says them as its labels do
FIELD_LABELS = {
    "chunk_min_s": "'Chunks at least'",
    "chunk_max_s": "'Chunks at most'",
    "retention_hours": "'Keep uploaded audio'",
    "reconnect_minutes": "'Wait for a lost microphone'",
}


def in_words(message: str) -> str:
    """A core validation message with the dialog's labels instead of setting names."""
    for name, label in FIELD_LABELS.items():
        message = message.replace(name, label)
    return message


def key_hint(key: str | None) -> str:
    """How a stored key is shown: its last four characters only."""
    if not key:
        return "No API key stored"
    return f"•••• {key[-4:]}" if len(key) > 8 else "•••• (short key)"


def proxy_password_hint(stored: bool | None) -> str:
    """The empty proxy password field's placeholder: whether one is kept if left empty
    (`stored` None: the password store could not be read)."""
    if stored is None:
        return "Not known (password store unusable): leave empty to keep any stored one"
    if stored:
        return "Stored: leave empty to keep it, or type a new one"
    return "Only if the proxy asks for a login"


def check_ca_bundle(path: str) -> None:
    """SettingsError unless `path` holds PEM certificates: caught at Save, not after it, when
    the uploads would already be waiting on a link that cannot start."""
    from recorder.heidi.tls import make_ssl_context  # truststore: loaded only when checked

    try:
        make_ssl_context(path)
    except ConfigError as error:
        raise SettingsError(str(error)) from None


def _line(accessible: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setAccessibleName(accessible)
    edit.setPlaceholderText(placeholder)
    return edit


def _seconds(accessible: str, value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(*CHUNK_LIMITS_S)
    spin.setDecimals(0)
    spin.setSuffix(" s")
    spin.setValue(value)
    spin.setAccessibleName(accessible)
    return spin


class SettingsDialog(QDialog):
    """Edit a copy of Settings; `chosen()` gives the validated result after accept."""

    def __init__(
        self,
        settings: Settings,
        stored_key: str | None,
        keyring_note: str | None = None,
        parent: QWidget | None = None,
        problem: str | None = None,
        proxy_password_stored: bool | None = False,
        key_known: bool = True,
    ) -> None:
        """`key_known` False: the password store failed, `stored_key` is not known; Save
        then keeps whatever is stored unless a new key is typed."""
        super().__init__(parent)
        self.setWindowTitle("Ambient Recorder settings")
        self._original = settings
        self._stored_key = stored_key
        self._key_known = key_known
        self._chosen: Settings | None = None

        self.base_url = _line(
            "Heidi base URL", "Empty: use the transcription server on this computer"
        )
        self.base_url.setText(settings.base_url)
        self.region = QComboBox()
        self.region.setEditable(True)
        self.region.addItems(REGIONS)
        self.region.setCurrentText(settings.region)
        self.region.setAccessibleName("Heidi region label")
        self.email = _line("Clinician email for Heidi", "name@practice.example")
        self.email.setText(settings.email)
        self.user_id = _line("Heidi user id", "Your id in the practice system")
        self.user_id.setText(settings.user_id)
        shown_key = key_hint(stored_key) if key_known else KEY_UNKNOWN
        self.key_label = SpokenLabel("Stored API key", shown_key)
        self.new_key = _line("Replace API key", "Paste a new API key to replace the stored one")
        self.new_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.proxy = _line("Proxy URL", "Empty: use the system proxy settings")
        shown_proxy, inline_password = split_proxy_password(settings.proxy_url)
        self._inline_proxy_password = inline_password  # an older file's: kept, never shown
        self.proxy.setText(shown_proxy or "")
        stored_proxy_password = True if inline_password else proxy_password_stored
        self.proxy_password = _line("Proxy password", proxy_password_hint(stored_proxy_password))
        self.proxy_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_bundle = _line(
            "CA bundle file", "Extra certificate file (.pem), if IT gave you one"
        )
        self.ca_bundle.setText(settings.ca_bundle or "")
        browse = QPushButton("Browse…")
        browse.setAccessibleName("Choose CA bundle file")
        browse.clicked.connect(self._browse_ca)
        self.chunk_min = _seconds("Shortest chunk", settings.chunk_min_s)
        self.chunk_max = _seconds("Longest chunk", settings.chunk_max_s)
        self.retention = QDoubleSpinBox()
        self.retention.setRange(0, MAX_RETENTION_HOURS)
        self.retention.setDecimals(0)
        self.retention.setSuffix(" h")
        self.retention.setValue(settings.retention_hours)
        self.retention.setAccessibleName("Keep uploaded audio for hours")
        self.reconnect = QDoubleSpinBox()
        self.reconnect.setRange(0, MAX_RECONNECT_MINUTES)
        self.reconnect.setDecimals(0)
        self.reconnect.setSuffix(" min")
        self.reconnect.setValue(settings.reconnect_minutes)
        self.reconnect.setAccessibleName("Wait for a lost microphone, minutes")
        self.reconnect.setToolTip(
            "If the microphone is unplugged or stops, keep the recording open this long "
            "for it to come back (0: end the recording at once; the audio so far is kept)."
        )
        self.require_consent = QCheckBox("Re&quire the consent box to be ticked before recording")
        self.require_consent.setChecked(settings.require_consent)
        self.require_consent.setAccessibleName("Require patient consent")
        self.error = SpokenLabel("Settings error")  # read out with its text, not just this
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {status_style.text_colour(Tone.BAD)};")
        self.error.hide()
        # why the settings in use cannot be used (damaged file, bad HEIDI_* variable)
        self.problem = SpokenLabel("Settings problem", problem or "")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {status_style.text_colour(Tone.BAD)};")
        self.problem.setVisible(bool(problem))

        account = QGroupBox("Heidi account")
        form = QFormLayout(account)
        form.addRow("Base &URL:", self.base_url)
        form.addRow("&Region:", self.region)
        form.addRow("&Email:", self.email)
        form.addRow("User &id:", self.user_id)
        form.addRow("API key:", self.key_label)
        form.addRow("Replace &key:", self.new_key)
        self.keyring_note = SpokenLabel("Password store", keyring_note or "")
        self.keyring_note.setWordWrap(True)
        # a wrapped label inside a form gets one line's height (its last line was cut off):
        # room for all its lines at its narrowest
        self.keyring_note.setMinimumWidth(NOTE_MIN_PX)
        self.keyring_note.setMinimumHeight(self.keyring_note.heightForWidth(NOTE_MIN_PX))
        if keyring_note:
            form.addRow(self.keyring_note)
        network = QGroupBox("Network")
        net_form = QFormLayout(network)
        net_form.addRow("&Proxy:", self.proxy)
        net_form.addRow("Proxy pass&word:", self.proxy_password)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)
        ca_label = QLabel("CA &bundle:")  # a row of two widgets has no buddy of its own:
        ca_label.setBuddy(self.ca_bundle)  # without one the label showed "&CA bundle:"
        net_form.addRow(ca_label, ca_row)
        recording = QGroupBox("Recording")
        rec_form = QFormLayout(recording)
        rec_form.addRow("Chunks at &least:", self.chunk_min)
        rec_form.addRow("Chunks at &most:", self.chunk_max)
        rec_form.addRow("Keep uploaded &audio:", self.retention)
        rec_form.addRow("&Wait for a lost microphone:", self.reconnect)
        rec_form.addRow("", self.require_consent)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        for part in (self.problem, account, network, recording):
            body_layout.addWidget(part)
        # the fields scroll on a small screen (800×600, large fonts); Save and the error stay
        self._inner = body
        self.body = QScrollArea()
        self.body.setWidget(body)
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        # not a Tab stop itself: the dialog opened with the focus on this unnamed pane (a
        # screen reader said nothing, typing went nowhere); now on the first field
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._layout = QVBoxLayout(self)
        for widget in (self.body, self.error, buttons):
            self._layout.addWidget(widget)
        screen = self.screen()
        self.fit_to_height(screen.availableGeometry().height() - WINDOW_FRAME_PX)

    def fit_to_height(self, height: int) -> None:
        """All the fields without scrolling when `height` px allow it, else as many as fit."""
        needed = self._inner.sizeHint()
        bar = self.body.verticalScrollBar().sizeHint().width()
        self.body.setMinimumWidth(needed.width() + bar)
        margins = self._layout.contentsMargins()
        below = self.save_button.sizeHint().height() + self._layout.spacing() * 2
        room = height - below - margins.top() - margins.bottom()
        self.body.setMinimumHeight(max(min(needed.height(), room), MIN_BODY_PX))

    def show_problem(self, problem: str) -> None:
        """Why the settings in use cannot be used, learnt while the dialog is up."""
        self.problem.setText(problem)
        self.problem.show()

    def _browse_ca(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Certificate bundle", "", "PEM files (*.pem *.crt);;All files (*)"
        )
        if path:
            self.ca_bundle.setText(path)

    def collect(self) -> Settings:
        """The settings as entered, validated; SettingsError names what is wrong."""
        settings = dataclasses.replace(
            self._original,
            base_url=self.base_url.text().strip(),
            region=self.region.currentText().strip(),
            email=self.email.text().strip(),
            user_id=self.user_id.text().strip(),
            proxy_url=self.proxy_url(),
            ca_bundle=self.ca_bundle.text().strip() or None,
            chunk_min_s=self.chunk_min.value(),
            chunk_max_s=self.chunk_max.value(),
            retention_hours=self.retention.value(),
            reconnect_minutes=self.reconnect.value(),
            require_consent=self.require_consent.isChecked(),
        )
        settings.validate()
        new_key = self.new_api_key()
        if new_key:  # a key pasted with a zero-width or non-breaking space failed every upload
            validate_api_key(new_key, where=NEW_KEY_WHERE)
        if settings.ca_bundle:
            check_ca_bundle(settings.ca_bundle)
        if settings.base_url:
            if "@" not in settings.email:
                raise SettingsError("A Heidi account needs the clinician's email address.")
            if not settings.user_id:
                raise SettingsError("A Heidi account needs your user id.")
            # a key the store could not show may well be there: kept, not asked for
            if self._key_known and not (self._stored_key or self.new_api_key()):
                raise SettingsError("A Heidi account needs an API key.")
        return settings

    def proxy_url(self) -> str | None:
        """The proxy as typed, carrying a password typed (or an older file's inline one):
        the core moves it into the keyring; none here means the stored one is kept."""
        typed = self.proxy.text().strip()
        if not typed:
            return None
        if split_proxy_password(typed)[1] is not None:
            return typed  # typed whole, password and all
        password = self.proxy_password.text() or self._inline_proxy_password
        return with_proxy_password(typed, password) if password else typed

    def new_api_key(self) -> str | None:
        """The replacement key typed by the user, or None to keep the stored one."""
        return self.new_key.text().strip() or None

    def chosen(self) -> Settings | None:
        """The validated settings after Save; None before or after Cancel."""
        return self._chosen

    def accept(self) -> None:
        """Close only when every value is usable; otherwise say what to fix."""
        try:
            self._chosen = self.collect()
        except SettingsError as error:
            self.show_error(str(error))
            return
        super().accept()

    def show_error(self, message: str) -> None:
        """Say above Save what stops the settings from being saved."""
        self.error.setText(in_words(message))
        self.error.show()
