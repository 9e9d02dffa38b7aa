"""The headless command line: a thin argparse dispatcher.

Each command lives in its own module under `recorder.commands` (or, for
`serve`, in `server.cli`) and provides `add_parser(subparsers)` and
`run(args) -> int`. With no command, the desktop app opens.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from recorder import __version__, exit_codes
from recorder.errors import RecorderError

COMMAND_MODULES: tuple[str, ...] = (
    "recorder.commands.devices",
    "recorder.commands.record",
    "recorder.commands.spool_cmd",
    "recorder.commands.export",
    "recorder.commands.upload",
    "recorder.commands.transcript",
    "recorder.commands.resume",
    "recorder.commands.serve",
)


log = logging.getLogger(__name__)


class CommandLineParser(argparse.ArgumentParser):
    """argparse, but a mistake is one `error:` line naming it and where help is (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(exit_codes.USAGE)


def _load_commands() -> list[ModuleType]:
    return [importlib.import_module(name) for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each command module adds its own sub-parser."""
    parser = CommandLineParser(
        prog="ambient-recorder",
        description="Record a consult, upload it in chunks and follow the live transcript. "
        "With no command, the desktop app opens.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _load_commands():
        module.add_parser(subparsers)
    return parser


class _VersionAction(argparse.Action):
    """Prints the version and build info on one line (argparse's own action wraps it)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        print(f"ambient-recorder {version_string()}")
        parser.exit()


def version_string() -> str:
    """Version plus build info (set by the packaging build, if any)."""
    try:
        from recorder import _build_info  # type: ignore[attr-defined]

        return f"{__version__} ({_build_info.BUILD})"
    except ImportError:
        return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the process exit code (see recorder.exit_codes).

    Whatever goes wrong ends in one `error:` line on stderr and a documented exit code, never a
    traceback: an unexpected exception is logged in full and reported in one line.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        from recorder.launch import open_desktop_app

        return open_desktop_app()
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return exit_codes.USAGE
    try:
        if args.command not in ("serve", "devices"):
            _start_logging(args)
        code: int = args.run(args)
        return code
    except RecorderError as error:
        print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
    except OSError as error:  # a file or folder the command needed (not caught nearer)
        log.warning("`%s`: %s", args.command, type(error).__name__)
        print_error(describe_os_error(error))
        return exit_codes.SPOOL if error.errno in _DISK_ERRNOS else exit_codes.FAILURE
    except Exception as error:  # the last line of defence: one clear line, details in the log
        log.exception("unexpected failure of `%s`", args.command)
        print_error(
            f"unexpected problem ({type(error).__name__}: {error}); recorded audio is kept in "
            "the spool. Please report this with the log (in the data folder's logs/)."
        )
        return exit_codes.FAILURE


def print_error(message: object) -> None:
    """`error: <message>` as exactly one line on stderr."""
    text = " ".join(str(message).split())
    print(f"error: {text}", file=sys.stderr, flush=True)


_DISK_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT})


def describe_os_error(error: OSError) -> str:
    """`Cannot use <path> (<reason>)` and what to check, for an OSError nobody caught nearer."""
    where = f" {error.filename}" if error.filename else ""
    reason = error.strerror or type(error).__name__
    return (
        f"Cannot use{where} ({reason}): check that the folder exists, is writable and has free "
        "space. Recorded audio already in the spool is kept."
    )


def _start_logging(args: argparse.Namespace) -> None:
    from recorder import paths
    from recorder.logs import configure_logging, log_problem, log_started, on_log_failure

    # an unusable data dir raises SpoolError here: reported like any other error
    log_file = None
    data_dir = paths.data_dir(getattr(args, "data_dir", None))
    with contextlib.suppress(OSError):
        log_file = configure_logging(data_dir)
    if log_file is None:  # no log file (read-only folder): keep log lines off the terminal
        for name in ("recorder", "server", "ui"):
            logging.getLogger(name).addHandler(logging.NullHandler())
        problem = log_problem(data_dir)
        if problem:  # said once; the command goes on (a log must never stop a consult)
            print(f"warning: {problem}; carrying on without a log file.", file=sys.stderr)
    else:  # a log failing mid-run (disk full, removed, read-only): said once, never a traceback
        on_log_failure(log_file, _warn_log_stopped)
    log_started("cli", data_dir, version_string(), command=args.command)


def _warn_log_stopped(problem: str) -> None:
    """The log stopped being written mid-run: one `warning:` line (the command goes on)."""
    print(f"warning: {problem}; carrying on without it.", file=sys.stderr, flush=True)
