"""The two dialog round trips with the core: Settings (load key hint → edit → apply) and the
start-up offer of unfinished recordings (list → choose → resume uploads).

Every core or keyring call runs off the GUI thread; the dialogs open window-modal
and non-blocking (`open()`), so core events keep flowing while they are up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtWidgets import QWidget

from recorder.settings import (
    KeyringUnusableError,
    Settings,
    get_api_key,
    get_proxy_password,
    keyring_problem,
)
from ui.core_api import CoreApi
from ui.recovery_dialog import RecoveryDialog
from ui.settings_dialog import SettingsDialog
from ui.worker import run_in_background

OnError = Callable[[BaseException], None]


@dataclass(frozen=True)
class StoredSecrets:
    """What the Settings dialog may say of the password store (read off the GUI thread)."""

    api_key: str | None
    api_key_known: bool  # False: the store failed; a key may be stored, and is kept
    note: str | None  # why the store cannot be used, in plain words
    proxy_password_stored: bool | None  # None: not known (the store failed)


def read_stored_secrets() -> StoredSecrets:
    """The key's hint and the store's state. A failing store still lets Settings open (the
    base URL, the proxy, the chunk length stay changeable), with the key state unknown."""
    note = keyring_problem()
    key: str | None = None
    key_known = True
    proxy_stored: bool | None = None
    try:
        key = get_api_key()
    except KeyringUnusableError as error:
        key_known, note = False, note or str(error)
    try:
        proxy_stored = get_proxy_password() is not None
    except KeyringUnusableError as error:
        note = note or str(error)
    return StoredSecrets(key, key_known, note, proxy_stored)


class SettingsFlow:
    """Settings… : read the stored key (for its hint) in the background, edit, apply via core."""

    def __init__(
        self,
        core: CoreApi,
        parent: QWidget,
        on_applied: Callable[[Settings], None],
        on_error: OnError,
    ) -> None:
        self.core = core
        self.parent = parent
        self.on_applied = on_applied
        self.on_error = on_error
        self.dialog: SettingsDialog | None = None
        self._fetching = False

    def open(self, problem: str | None = None) -> None:
        """Fetch the key hint and keyring state off the GUI thread, then show the dialog.

        `problem`: why the current settings cannot be used, shown at the top of the dialog.
        One dialog at a time: asked again while it is up (or while a slow keyring is still
        being read), the one there is brought to the front. Two stacked dialogs let the
        one saved last silently undo the other.
        """
        if self.dialog is not None and self.dialog.isVisible():
            if problem:
                self.dialog.show_problem(problem)
            self.dialog.raise_()
            self.dialog.activateWindow()
            return
        if self._fetching:
            return
        self._fetching = True
        run_in_background(
            read_stored_secrets,
            partial(self._show, problem=problem),
            self._fetch_failed,
            owner=self.parent,
        )

    def _fetch_failed(self, error: BaseException) -> None:
        self._fetching = False
        self.on_error(error)

    def _show(self, found: object, problem: str | None = None) -> None:
        self._fetching = False
        assert isinstance(found, StoredSecrets)
        dialog = SettingsDialog(
            self.core.settings,
            found.api_key,
            found.note,
            self.parent,
            problem=problem,
            proxy_password_stored=found.proxy_password_stored,
            key_known=found.api_key_known,
        )
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._apply(dialog))
        dialog.open()

    def _apply(self, dialog: SettingsDialog) -> None:
        settings = dialog.chosen()
        if settings is None:
            return
        key = dialog.new_api_key()
        run_in_background(
            lambda: self.core.apply_settings(settings, key),
            lambda _result: self.on_applied(settings),
            partial(self._not_saved, dialog),
            owner=self.parent,
        )

    def _not_saved(self, dialog: SettingsDialog, error: BaseException) -> None:
        """Saving failed (no password store for the key, settings folder not writable, a bad
        HEIDI_* variable): the dialog comes back with what was typed and why, instead of
        everything typed being gone behind a status-bar message."""
        self.on_error(error)
        if self.dialog is not dialog or dialog.isVisible():
            return  # another dialog was opened meanwhile
        dialog.show_error(str(error) or type(error).__name__)
        dialog.open()


class RecoveryFlow:
    """At start: list unfinished recordings; for the ones the user ticks, resume uploads."""

    def __init__(
        self,
        core: CoreApi,
        parent: QWidget,
        on_resuming: Callable[[list[str]], None],
        on_error: OnError,
    ) -> None:
        self.core = core
        self.parent = parent
        self.on_resuming = on_resuming
        self.on_error = on_error
        self.dialog: RecoveryDialog | None = None

    def offer(self) -> None:
        """Ask the core (off the GUI thread) and show the dialog when there is anything."""
        run_in_background(
            self.core.unfinished_recordings, self._show, self.on_error, owner=self.parent
        )

    def _show(self, summaries: object) -> None:
        found = list(summaries) if isinstance(summaries, list | tuple) else []
        if not found:
            return
        dialog = RecoveryDialog(found, self.parent)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._resume(dialog.chosen_ids()))
        dialog.open()

    def _resume(self, recording_ids: list[str]) -> None:
        self.on_resuming(recording_ids)
        for recording_id in recording_ids:
            run_in_background(
                partial(self.core.resume_uploads, recording_id),
                None,
                self.on_error,
                owner=self.parent,
            )
