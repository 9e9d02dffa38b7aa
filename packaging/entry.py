"""Entry script of the frozen app: behaves exactly like the `ambient-recorder` console script.

No arguments opens the desktop app; any argument goes to the CLI (`--version`,
`record`, `devices`, `spool`, ...). It only delegates, so the bundle and the
installed package cannot drift apart.
"""

from __future__ import annotations

import multiprocessing
import sys

from recorder.cli import main

if __name__ == "__main__":
    # A frozen app re-executes itself for any multiprocessing child (the local
    # server's workers may use one); without this the child would open a window.
    multiprocessing.freeze_support()
    sys.exit(main())
