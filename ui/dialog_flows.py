"""The two dialog round trips with the core: Settings (load key hint → edit → apply) and the
start-up offer of unfinished recordings (list → choose → resume uploads).

Every core or keyring call runs off the GUI thread; the dialogs open window-modal
and non-blocking (`open()`), so core events keep flowing while they are up.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QWidget

from recorder.settings import Settings, get_api_key, get_proxy_password, keyring_problem
from ui.core_api import CoreApi
from ui.recovery_dialog import RecoveryDialog
from ui.settings_dialog import SettingsDialog
from ui.worker import run_in_background

OnError = Callable[[BaseException], None]


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
            lambda: (get_api_key(), keyring_problem(), get_proxy_password() is not None),
            partial(self._show, problem=problem),
            self._fetch_failed,
            owner=self.parent,
        )

    def _fetch_failed(self, error: BaseException) -> None:
        self._fetching = False
        self.on_error(error)

    def _show(self, found: object, problem: str | None = None) -> None:
        self._fetching = False
        key, note, proxy_stored = found if isinstance(found, tuple) else (None, None, False)
        dialog = SettingsDialog(
            self.core.settings,
            key,
            note,
            self.parent,
            problem=problem,
            proxy_password_stored=bool(proxy_stored),
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
