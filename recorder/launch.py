"""Opens the desktop app without the core importing Qt at module level."""

from __future__ import annotations

import importlib


def open_desktop_app() -> int:
    """Run `ui.app.main()`; the import happens here so `recorder` stays Qt-free."""
    app_module = importlib.import_module("ui.app")
    code: int = app_module.main()
    return code
