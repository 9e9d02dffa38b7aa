"""Exceptions that say what went wrong in words a user can act on.

Every error the core raises to the CLI or UI derives from RecorderError; its
str() is the message shown to the user (never a traceback, never patient data).
"""

from __future__ import annotations


class RecorderError(Exception):
    """Base of every error the core reports to a user."""


class NoInputDeviceError(RecorderError):
    """No audio input device exists, or the named one is not found."""


class AudioInputError(RecorderError):
    """The input device could not be opened or stopped delivering audio."""


class BadAudioFileError(RecorderError):
    """A file given as input is not readable audio (not audio, empty, truncated)."""


class SpoolError(RecorderError):
    """The spool (data directory) cannot be written: disk full, read-only, permissions."""


class DecryptionError(RecorderError):
    """A spool file cannot be decrypted: wrong key or tampered file."""
