"""`ambient-recorder devices`: list the audio inputs a recording can use."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from recorder import exit_codes
from recorder.audio.devices import list_input_devices
from recorder.errors import AudioInputError


def add_parser(subparsers: Any) -> None:
    """Register the `devices` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "devices",
        help="list audio input devices",
        description="List the audio input devices (index, name, channels, default rate). "
        "Use the index or part of the name with `record --device`.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per input device; exit AUDIO_INPUT with a clear message when there is none."""
    try:
        devices = list_input_devices()
    except AudioInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return exit_codes.AUDIO_INPUT
    if not devices:
        print(
            "error: No audio input device found: connect a microphone (or enable one in the "
            "system sound settings) and try again.",
            file=sys.stderr,
        )
        return exit_codes.AUDIO_INPUT
    for device in devices:
        print(device.describe())
    return exit_codes.OK
