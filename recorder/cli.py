"""The headless command line: a thin argparse dispatcher.

Each command lives in its own module under `recorder.commands` (or, for
`serve`, in `server.cli`) and provides `add_parser(subparsers)` and
`run(args) -> int`. With no command, the desktop app opens.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

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


def _load_commands() -> list[ModuleType]:
    return [importlib.import_module(name) for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each command module adds its own sub-parser."""
    parser = argparse.ArgumentParser(
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
    """Entry point: returns the process exit code (see recorder.exit_codes)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        from recorder.launch import open_desktop_app

        return open_desktop_app()
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return exit_codes.USAGE
    if args.command not in ("serve", "devices"):
        from recorder import paths
        from recorder.logs import configure_logging

        # an unusable data dir is reported by the command itself, clearly
        with contextlib.suppress(OSError):
            configure_logging(paths.data_dir(getattr(args, "data_dir", None)))
    try:
        code: int = args.run(args)
        return code
    except RecorderError as error:
        print(f"error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", exit_codes.FAILURE)
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
