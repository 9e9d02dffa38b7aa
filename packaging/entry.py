"""Entry script of the frozen app: behaves exactly like the `ambient-recorder` console script.

No arguments opens the desktop app; any argument goes to the CLI (`--version`,
`record`, `devices`, `spool`, ...). It only delegates, so the bundle and the
installed package cannot drift apart.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

from recorder.__main__ import main  # the console script's own main (exit handling too)


def _give_windowed_app_streams() -> None:
    """A windowed Windows executable (AmbientRecorder.exe) starts with sys.stdout/stderr = None.

    Libraries then crash on `sys.stderr.write` or `sys.stdout.isatty()` (uvicorn's
    log formatter does, in the offline build). Point them at the null device; the
    app's own log file (in the data folder) is where its messages go.
    """
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


if __name__ == "__main__":
    _give_windowed_app_streams()
    # A frozen app re-executes itself for any multiprocessing child; without this
    # the child would run the CLI (or open a window) instead of its task.
    multiprocessing.freeze_support()
    sys.exit(main())
