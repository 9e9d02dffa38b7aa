"""Exceptions that say what went wrong in words a user can act on.

Every error the core raises to the CLI or UI derives from RecorderError; its
str() is the message shown to the user (never a traceback, never patient data).
"""

from __future__ import annotations

from recorder import exit_codes


class RecorderError(Exception):
    """Base of every error the core reports to a user; `exit_code` is what the CLI exits with."""

    exit_code: int = exit_codes.FAILURE


class NoInputDeviceError(RecorderError):
    """No audio input device exists, or the named one is not found."""

    exit_code = exit_codes.AUDIO_INPUT


class AudioInputError(RecorderError):
    """The input device could not be opened or stopped delivering audio."""

    exit_code = exit_codes.AUDIO_INPUT


class BadAudioFileError(RecorderError):
    """A file given as input is not readable audio (not audio, empty, truncated)."""

    exit_code = exit_codes.AUDIO_INPUT


class SpoolError(RecorderError):
    """The spool (data directory) is unusable: disk full, read-only, damaged, key missing."""

    exit_code = exit_codes.SPOOL


class DecryptionError(RecorderError):
    """A spool file cannot be decrypted: wrong key or tampered file."""

    exit_code = exit_codes.SPOOL
