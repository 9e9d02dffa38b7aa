"""`python -m recorder` and the `ambient-recorder` console script."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

from recorder import cli


def main() -> int:
    """Run the command line and end the process with its exit code.

    A command may end while a daemon thread is still inside native code: the embedded server's
    transcriber finishing a chunk after `resume --local` stopped early (a rejected chunk). The
    interpreter's teardown under it aborts the process ("terminate called without an active
    exception", SIGABRT), and the documented exit code is lost. With only such threads left,
    the output and the log are flushed and the process ends at once instead (commands only;
    the desktop app is left as it was).
    """
    code = cli.main()
    if len(sys.argv) < 2:  # the desktop app: it ends its own threads
        return code
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    if others and all(t.daemon for t in others):
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # closed, or a broken pipe
                stream.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
