"""Settings dialog: validation with clear messages, and persistence through the real core.

The "key goes to the keyring" test installs tests/ui/file_keyring.FileKeyring,
a real keyring backend stored in a tmp file (this headless machine has no OS
keyring); the app's code uses the ordinary keyring API against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from recorder.audio import FileSpec
from recorder.events import ConnectionChanged
from recorder.settings import ENV_API_KEY, Settings, load_settings, settings_path
from recorder.states import ChunkState, SessionState
from tests.fixtures.keyrings import keyring_backend
from tests.ui.file_keyring import FileKeyring
from tests.ui.harness import CLOSED_URL, consult_slice, heidi_settings, running_app
from ui.settings_dialog import SettingsDialog, key_hint
from ui.worker import wait_for_background


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[FileKeyring]:
    with keyring_backend(FileKeyring(tmp_path / "keyring.json")) as backend:
        yield backend


def dialog_for(qtbot: QtBot, settings: Settings, key: str | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings, key)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_url", "ftp://heidi.example", "must start with https://"),
        ("base_url", "http://heidi.example/api", "plain http is only allowed"),
        ("proxy", "proxy.example:3128", "proxy address must look like"),
        ("ca_bundle", "/nonexistent/ca.pem", "CA bundle file does not exist"),
        ("ca_bundle", "/", "must be a certificate file, not a folder"),
        # a typo in an IPv6 proxy or its port: Save used to do nothing at all (ValueError)
        ("proxy", "http://[::1", "proxy address is not a valid URL"),
        ("proxy", "http://proxy.example:99999", "proxy address is not a valid URL"),
        ("proxy", "http://proxy.example:31 28", "proxy address is not a valid URL"),
    ],
)
def test_bad_values_keep_the_dialog_open_and_say_why(
    qtbot: QtBot, field: str, value: str, message: str
) -> None:
    dialog = dialog_for(qtbot, Settings())
    getattr(dialog, field).setText(value)
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.chosen() is None
    assert message in dialog.error.text()


def test_a_proxy_password_is_never_repeated_in_the_error(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot, Settings())
    dialog.proxy.setText("htp://dr:Secret-Pw@proxy.example:3128")
    dialog.save_button.click()
    assert "proxy address must look like" in dialog.error.text()
    assert "proxy.example:3128" in dialog.error.text()
    assert "Secret-Pw" not in dialog.error.text() and dialog.chosen() is None
    dialog.proxy.setText("http://dr:Secret@Pw@proxy.example:3128")  # '@' in the password
    dialog.save_button.click()
    chosen = dialog.chosen()
    assert chosen is not None and chosen.proxy_url == "http://dr:Secret@Pw@proxy.example:3128"


def test_a_ca_bundle_that_is_not_pem_is_refused_at_save(qtbot: QtBot, tmp_path: Path) -> None:
    """Not after Save, when the link could not start and the uploads would wait."""
    import certifi

    not_pem = tmp_path / "practice-ca.pem"
    not_pem.write_text("this is the IT ticket, not a certificate\n")
    dialog = dialog_for(qtbot, Settings())
    dialog.ca_bundle.setText(str(not_pem))
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.chosen() is None
    assert "could not be read as PEM certificates" in dialog.error.text()
    dialog.ca_bundle.setText(certifi.where())  # a real PEM bundle is taken
    dialog.save_button.click()
    chosen = dialog.chosen()
    assert chosen is not None and chosen.ca_bundle == certifi.where()


def test_chunk_bounds_and_heidi_account_checks(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot, Settings())
    assert (dialog.chunk_min.minimum(), dialog.chunk_max.maximum()) == (45.0, 60.0)
    dialog.chunk_min.setValue(58)
    dialog.chunk_max.setValue(50)
    dialog.save_button.click()
    # said with the dialog's own labels, not the settings file's names
    assert dialog.error.text() == "'Chunks at least' must not be larger than 'Chunks at most'."
    dialog.chunk_max.setValue(60)
    dialog.base_url.setText("https://heidi.example/api/v2/ml-scribe/open-api")
    dialog.save_button.click()
    assert "email" in dialog.error.text()
    dialog.email.setText("dr@practice.example")
    dialog.save_button.click()
    assert "user id" in dialog.error.text()
    dialog.user_id.setText("dr-1")
    dialog.save_button.click()
    assert "API key" in dialog.error.text()
    dialog.new_key.setText("  sk-new-key-9876  ")
    dialog.save_button.click()
    chosen = dialog.chosen()
    assert not dialog.isVisible() and chosen is not None
    assert chosen.chunk_min_s == 58 and chosen.email == "dr@practice.example"
    assert dialog.new_api_key() == "sk-new-key-9876"


def test_stored_key_is_never_shown_in_full(qtbot: QtBot) -> None:
    key = "heidi-secret-key-ABCD"
    dialog = dialog_for(qtbot, heidi_settings("https://h.example"), key)
    assert dialog.key_label.text() == "•••• ABCD"
    assert key not in dialog.key_label.text() and dialog.new_key.text() == ""
    assert dialog.new_key.echoMode() == dialog.new_key.EchoMode.Password
    assert key_hint(None) == "No API key stored" and key_hint("short") == "•••• (short key)"


def test_saved_through_the_core_key_in_keyring_then_connects(
    qtbot: QtBot,
    tmp_path: Path,
    local_server: Any,
    file_keyring: FileKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    start = heidi_settings(local_server.base_url)  # no key stored yet: cannot sign in
    with running_app(qtbot, tmp_path / "data", start, None) as app:
        w = app.window
        app.wait(qtbot, lambda: w.status.connection.text().startswith("Offline"), 30)
        app.controller.open_settings()  # the key hint is read off the GUI thread first
        app.wait(qtbot, lambda: app.controller.settings_dialog is not None, 10)
        dialog = app.controller.settings_dialog
        assert dialog is not None and dialog.key_label.text() == "No API key stored"
        dialog.new_key.setText(local_server.api_key)
        dialog.retention.setValue(48)
        dialog.reconnect.setValue(3)
        dialog.require_consent.setChecked(False)
        dialog.region.setCurrentText("AU")
        dialog.save_button.click()
        app.wait(qtbot, lambda: w.status.currentMessage() == "Settings saved.", 15)
        saved = json.loads(settings_path().read_text())
        assert saved["retention_hours"] == 48 and saved["require_consent"] is False
        assert saved["reconnect_minutes"] == 3
        assert local_server.api_key not in json.dumps(saved), "the key never goes to the file"
        assert file_keyring.get_password("AmbientRecorder", "heidi-api-key") == local_server.api_key
        assert load_settings().region == "AU"
        app.wait(qtbot, lambda: w.status.connection.text().startswith("Connected to Heidi AU"), 30)
        # why it was offline (no key) is past now: no longer the red "last error"
        assert w.status.error.text().startswith("Earlier, ") and "No Heidi API key" in (
            w.status.error.text()
        )
        assert w.controls.main_button.isEnabled(), "consent no longer required by the practice"
        app.controller.open_settings()
        app.wait(qtbot, lambda: app.controller.settings_dialog is not dialog, 10)
        again = app.controller.settings_dialog
        assert again is not None and again.key_label.text() == f"•••• {local_server.api_key[-4:]}"
        again.reject()


def test_bad_settings_file_opens_settings_and_uploads_wait_until_saved(
    qtbot: QtBot, tmp_path: Path, local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-edited settings.json with one bad value: the app says so and opens Settings
    (the readable values filled in), records with the chunks kept queued, never uses the
    local server, leaves the file alone; Save replaces the file and the chunks upload."""
    monkeypatch.setenv(ENV_API_KEY, local_server.api_key)
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    practice = {
        "base_url": local_server.base_url,
        "region": "AU",
        "email": "dr@practice.example",
        "user_id": "dr-7",
        "chunk_min_s": 10,  # out of range
    }
    path.write_text(json.dumps(practice))
    source = FileSpec(consult_slice(tmp_path / "consult.wav", 50), speed=0)
    # settings=None: the core reads settings.json, as the app does
    with running_app(qtbot, tmp_path / "data", None, source) as app:  # type: ignore[arg-type]
        w = app.window
        app.wait(qtbot, lambda: app.controller.settings_dialog is not None, 20)
        dialog = app.controller.settings_dialog
        assert dialog is not None
        app.wait(qtbot, dialog.isVisible, 5)
        assert dialog.problem.isVisible()
        assert "chunk_min_s" in dialog.problem.text() and str(path) in dialog.problem.text()
        assert dialog.base_url.text() == local_server.base_url, "readable values kept"
        assert (dialog.email.text(), dialog.user_id.text()) == ("dr@practice.example", "dr-7")
        app.wait(qtbot, lambda: "settings need fixing" in w.status.connection.text(), 20)
        assert "chunk_min_s" in w.status.last_error()
        dialog.reject()  # the clinician records first and fixes the settings later

        app.start_recording(qtbot)
        app.wait(qtbot, lambda: app.controller.state is SessionState.DONE, 60)
        rows = w.chunk_model.rows()
        assert rows and all(row.local is ChunkState.QUEUED for row in rows), app.summary()
        assert [
            e for e in app.events if isinstance(e, ConnectionChanged) and e.mode != "offline"
        ] == []
        assert json.loads(path.read_text()) == practice, "not overwritten without a Save"

        app.controller.open_settings()
        app.wait(qtbot, lambda: app.controller.settings_dialog is not dialog, 10)
        again = app.controller.settings_dialog
        assert again is not None and "chunk_min_s" in again.problem.text()
        again.save_button.click()
        app.wait(qtbot, lambda: w.status.currentMessage() == "Settings saved.", 15)
        saved = load_settings()
        assert (saved.base_url, saved.user_id, saved.chunk_min_s) == (
            local_server.base_url,
            "dr-7",
            45.0,
        )
        app.wait(qtbot, lambda: w.status.connection.text().startswith("Connected to Heidi AU"), 30)
        app.wait(
            qtbot, lambda: all(r.local is ChunkState.UPLOADED for r in w.chunk_model.rows()), 60
        )
        assert "chunk_min_s" not in w.status.last_error()


def test_every_field_has_a_label_with_a_working_shortcut_and_nothing_is_cut_off(
    qtbot: QtBot,
) -> None:
    note = (
        "No secure password store is available: the API key cannot be saved. "
        "Set HEIDI_API_KEY instead."
    )
    dialog = SettingsDialog(Settings(), None, note)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert "CA &bundle:" in texts and not any(t.startswith("&C") for t in texts)
    for field in (dialog.ca_bundle, dialog.chunk_min, dialog.chunk_max, dialog.reconnect):
        labels = [label for label in dialog.findChildren(QLabel) if label.buddy() is field]
        assert labels and "&" in labels[0].text(), f"{field.accessibleName()} has no shortcut"
    wrapped = dialog.keyring_note
    assert wrapped.text() == note
    assert wrapped.height() >= wrapped.heightForWidth(wrapped.width()), "its last line is cut"


def test_on_a_small_screen_the_fields_scroll_and_save_stays_in_reach(qtbot: QtBot) -> None:
    note = "No secure password store is available: the API key cannot be saved."
    dialog = SettingsDialog(Settings(), None, note, problem="The settings file is damaged.")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    bar = dialog.body.verticalScrollBar()
    assert bar.maximum() == 0, "on this screen every field shows without scrolling"
    full = dialog.height()
    dialog.fit_to_height(full - 150)  # e.g. 800×600 with a taskbar, or large fonts
    dialog.adjustSize()
    qtbot.waitUntil(lambda: dialog.height() <= full - 150)
    assert bar.maximum() > 0, "the fields scroll"
    assert dialog.save_button.isVisible() and dialog.save_button.y() < dialog.height()
    dialog.body.ensureWidgetVisible(dialog.require_consent)
    assert dialog.require_consent.visibleRegion().boundingRect().height() > 0


def test_settings_asked_for_again_brings_the_one_dialog_forward(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Ctrl+, pressed again while the keyring is read (slow when it must be unlocked), or
    Settings opened by an error while it is up: one dialog, never a stack of them whose
    last Save would undo the others."""

    def shown() -> list[SettingsDialog]:
        return [
            widget
            for widget in QApplication.topLevelWidgets()
            if isinstance(widget, SettingsDialog) and widget.isVisible()
        ]

    with running_app(qtbot, tmp_path / "data", heidi_settings(CLOSED_URL), None) as app:
        app.window.settings_action.trigger()
        app.window.settings_action.trigger()  # before the first has appeared
        app.wait(qtbot, lambda: app.controller.settings_dialog is not None, 30)
        dialog = app.controller.settings_dialog
        assert dialog is not None
        app.controller.open_settings()  # while it is up
        app.controller.settings_flow.open(problem="The settings file is damaged.")
        assert wait_for_background(60_000)  # every keyring read the opens started is done
        for _ in range(10):  # ... and its result delivered on this thread
            QApplication.processEvents()
        assert shown() == [dialog] and app.controller.settings_dialog is dialog
        assert dialog.problem.isVisible() and "damaged" in dialog.problem.text()
        dialog.reject()
        app.controller.open_settings()  # closed: Settings opens again
        app.wait(qtbot, lambda: app.controller.settings_dialog is not dialog, 30)
        again = app.controller.settings_dialog
        assert again is not None and shown() == [again]
        again.reject()


def test_settings_opens_on_its_first_field_and_every_tab_stop_is_named(qtbot: QtBot) -> None:
    """Keyboard and screen-reader use: typing goes into the Base URL at once, and Tab never
    lands on a control a screen reader cannot name."""
    dialog = dialog_for(qtbot, Settings())
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=30_000)
    assert QApplication.focusWidget() is dialog.base_url
    names = []
    widget = QApplication.focusWidget()
    for _ in range(40):
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        if widget is dialog.base_url:
            break
        # a spin box's or an editable combo's own line edit speaks for its box
        named = widget.accessibleName() or widget.parentWidget().accessibleName()
        names.append(named or getattr(widget, "text", lambda: "")().replace("&", ""))
    assert widget is dialog.base_url, f"Tab went round without coming back: {names}"
    assert all(names), f"a Tab stop with no name: {names}"
    assert names[-2:] == ["Save", "Cancel"] and "Proxy URL" in names


@pytest.mark.parametrize("pasted", ["sk-abc\u200bdef-1234", "sk-abc\u00a0def-1234", "sk abc"])
def test_a_pasted_key_that_cannot_be_sent_is_refused_at_save(qtbot: QtBot, pasted: str) -> None:
    """A zero-width or non-breaking space from an e-mail or a web page: the key was stored,
    'Connected' shown, and every request then failed ("'ascii' codec can't encode")."""
    dialog = dialog_for(qtbot, heidi_settings("https://heidi.example"), "stored-key-0000")
    dialog.new_key.setText(pasted)
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.chosen() is None
    assert "'Replace key' is not a usable API key" in dialog.error.text()
    assert pasted not in dialog.error.text(), "a key is never shown back"
    dialog.new_key.setText("  sk-abcdef-1234  ")  # spaces around a pasted key are trimmed
    dialog.save_button.click()
    assert dialog.chosen() is not None and dialog.new_api_key() == "sk-abcdef-1234"


def test_the_core_never_stores_a_key_that_cannot_be_sent(
    tmp_path: Path, file_keyring: FileKeyring
) -> None:
    """The same check behind the dialog, in the core's apply_settings: nothing is stored."""
    from recorder.core import AmbientCore
    from recorder.settings import SettingsError

    core = AmbientCore(lambda _event: None, data_dir=tmp_path / "data", settings=Settings())
    with pytest.raises(SettingsError, match="not a usable API key"):
        core.apply_settings(heidi_settings("https://heidi.example"), "sk-abc\u200bdef")
    assert file_keyring.get_password("AmbientRecorder", "heidi-api-key") is None
    assert not settings_path().exists()


def test_a_save_that_fails_brings_the_dialog_back_with_what_was_typed(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No password store for the new key (keyring's 'fail' backend): the dialog closed at
    Save and the error went to the status bar; the URL, email, user id and proxy typed
    were gone and nothing was saved."""
    from keyring.backends import fail

    monkeypatch.delenv(ENV_API_KEY, raising=False)
    with (
        keyring_backend(fail.Keyring()),
        running_app(qtbot, tmp_path / "data", heidi_settings(CLOSED_URL), None) as app,
    ):
        app.controller.open_settings()
        app.wait(qtbot, lambda: app.controller.settings_dialog is not None, 30)
        dialog = app.controller.settings_dialog
        assert dialog is not None
        dialog.base_url.setText("https://heidi.example/api/v2/ml-scribe/open-api")
        dialog.email.setText("dr@practice.example")
        dialog.proxy.setText("http://proxy.practice.example:3128")
        dialog.new_key.setText("sk-practice-key-1234")
        dialog.save_button.click()
        assert not dialog.isVisible()  # closed at Save, the core then fails to store the key
        app.wait(qtbot, dialog.isVisible, 30)
        assert "password store" in dialog.error.text() and dialog.error.isVisible()
        assert dialog.base_url.text() == "https://heidi.example/api/v2/ml-scribe/open-api"
        assert dialog.email.text() == "dr@practice.example"
        assert dialog.proxy.text() == "http://proxy.practice.example:3128"
        assert not settings_path().exists(), "nothing was saved"
        dialog.reject()


class BrokenSecretService(FileKeyring):
    """A password store that holds entries but fails when asked, raising its own error (not
    keyring's KeyringError), as a crashed Secret Service raises over D-Bus."""

    broken = False

    def _fail(self) -> None:
        if self.broken:
            raise RuntimeError("org.freedesktop.DBus.Error.NoReply: the Secret Service hung")

    def get_password(self, service: str, username: str) -> str | None:
        self._fail()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._fail()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._fail()
        super().delete_password(service, username)


def test_a_failing_password_store_still_opens_settings_and_keeps_the_key(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings did not open at all (the key lookup's RuntimeError went to the status bar):
    the base URL, the proxy, the chunk length could not be changed. Now it opens with the
    key state unknown and the store's failure named; Save keeps the stored key."""
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    entry = ("AmbientRecorder", "heidi-api-key")
    with keyring_backend(BrokenSecretService(tmp_path / "keyring.json")) as store:
        store.set_password(*entry, "sk-stored-key-5678")
        store.broken = True
        with running_app(qtbot, tmp_path / "data", heidi_settings(CLOSED_URL), None) as app:
            app.controller.open_settings()
            app.wait(qtbot, lambda: app.controller.settings_dialog is not None, 30)
            dialog = app.controller.settings_dialog
            assert dialog is not None and dialog.isVisible()
            assert dialog.key_label.text().startswith("Unknown")
            note = dialog.keyring_note.text()
            assert note.startswith("The password store (OS keyring) is not usable: ")
            assert "Secret Service hung (RuntimeError)" in note and dialog.keyring_note.isVisible()
            assert dialog.proxy_password.placeholderText().startswith("Not known")
            dialog.email.setText("dr.new@example.org")
            dialog.save_button.click()
            assert not dialog.isVisible(), dialog.error.text()  # no "needs an API key"
            app.wait(qtbot, lambda: app.window.status.currentMessage() == "Settings saved.", 15)
            assert load_settings().email == "dr.new@example.org"
        store.broken = False
        assert store.get_password(*entry) == "sk-stored-key-5678", "the key it could not read"


def _texts_shown(dialog: SettingsDialog) -> str:
    """Every text the dialog shows or would read out: fields, labels, placeholders, names."""
    from PySide6.QtWidgets import QLineEdit

    parts = [e.text() + e.placeholderText() for e in dialog.findChildren(QLineEdit)]
    parts += [label.text() for label in dialog.findChildren(QLabel)]
    return "\n".join(parts)


def test_a_proxy_password_moves_to_the_keyring_and_is_never_shown(
    qtbot: QtBot,
    tmp_path: Path,
    file_keyring: FileKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An older settings.json with the password in the proxy URL: the dialog shows the proxy
    without it; Save (nothing retyped) moves it into the keyring; a new one typed replaces it;
    clearing the proxy deletes it."""
    from recorder.settings import save_settings

    monkeypatch.setenv(ENV_API_KEY, "sk-test-key-1234")
    secret, host = "Old-Pr0xy:pw", "proxy.practice.example:3128"
    save_settings(heidi_settings(CLOSED_URL, proxy_url=f"http://dr:{secret}@{host}"))
    entry = ("AmbientRecorder", "proxy-password")

    def open_dialog(app: Any, previous: SettingsDialog | None) -> SettingsDialog:
        app.controller.open_settings()
        app.wait(qtbot, lambda: app.controller.settings_dialog not in (None, previous), 10)
        dialog = app.controller.settings_dialog
        assert dialog is not None
        return dialog

    def save(app: Any, dialog: SettingsDialog) -> None:
        app.window.status.showMessage("")
        dialog.save_button.click()
        app.wait(qtbot, lambda: app.window.status.currentMessage() == "Settings saved.", 15)

    with running_app(qtbot, tmp_path / "data", load_settings(), None) as app:
        first = open_dialog(app, None)
        assert first.proxy.text() == f"http://dr@{host}"
        assert first.proxy_password.text() == ""
        assert first.proxy_password.placeholderText().startswith("Stored")
        assert secret not in _texts_shown(first)
        save(app, first)
        assert secret not in settings_path().read_text(encoding="utf-8")
        assert load_settings().proxy_url == f"http://dr@{host}"
        assert file_keyring.get_password(*entry) == secret

        second = open_dialog(app, first)
        assert second.proxy.text() == f"http://dr@{host}"
        assert second.proxy_password.placeholderText().startswith("Stored"), "read off the keyring"
        assert secret not in _texts_shown(second)
        second.proxy_password.setText("N3w pass/word")
        save(app, second)
        assert file_keyring.get_password(*entry) == "N3w pass/word"
        assert "N3w" not in settings_path().read_text(encoding="utf-8")

        third = open_dialog(app, second)
        assert "N3w" not in _texts_shown(third)
        third.retention.setValue(12)  # another change, the password not retyped: it stays
        save(app, third)
        assert file_keyring.get_password(*entry) == "N3w pass/word"

        fourth = open_dialog(app, third)
        fourth.proxy.setText("")
        save(app, fourth)
        assert load_settings().proxy_url is None
        assert file_keyring.get_password(*entry) is None
        fifth = open_dialog(app, fourth)
        assert fifth.proxy_password.placeholderText() == "Only if the proxy asks for a login"
        fifth.reject()


def test_a_proxy_password_needs_a_user_name(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot, Settings())
    dialog.proxy.setText("http://proxy.practice.example:3128")
    dialog.proxy_password.setText("Secret-Pw")
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.chosen() is None
    assert "needs the proxy user name" in dialog.error.text()
    assert "Secret-Pw" not in dialog.error.text()
    dialog.proxy.setText("http://dr@proxy.practice.example:3128")
    dialog.save_button.click()
    chosen = dialog.chosen()
    assert chosen is not None and chosen.proxy_url is not None
    assert chosen.proxy_url.startswith("http://dr:Secret-Pw@")


def test_no_password_store_refuses_a_new_proxy_password_and_keeps_an_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring's 'fail' backend, as for the API key: a newly typed proxy password is refused
    (nothing saved, HTTPS_PROXY named); an older file's inline one saved unchanged stays."""
    from keyring.backends import fail

    from recorder.core import AmbientCore
    from recorder.settings import NoKeyringError, save_settings

    monkeypatch.setenv(ENV_API_KEY, "sk-test-key-1234")
    old = heidi_settings(CLOSED_URL, proxy_url="http://dr:Old-Pw@proxy.practice.example:3128")
    save_settings(old)
    before = settings_path().read_text(encoding="utf-8")
    with keyring_backend(fail.Keyring()):
        core = AmbientCore(lambda _event: None, data_dir=tmp_path / "data", settings=old)
        try:
            new = heidi_settings(CLOSED_URL, proxy_url="http://dr:New-Pw@proxy.practice.example:1")
            with pytest.raises(NoKeyringError, match="HTTPS_PROXY") as caught:
                core.apply_settings(new)
            assert "New-Pw" not in str(caught.value)
            assert settings_path().read_text(encoding="utf-8") == before, "nothing saved"
            core.apply_settings(heidi_settings(CLOSED_URL, proxy_url=old.proxy_url, region="AU"))
            assert load_settings().proxy_url == old.proxy_url, "used as is, as before"
            assert load_settings().region == "AU"
            core.apply_settings(heidi_settings(CLOSED_URL))  # no proxy: nothing to delete
            assert load_settings().proxy_url is None
        finally:
            core.shutdown()
