"""Exit codes of the `ambient-recorder` command: each says what happened."""

from __future__ import annotations

OK = 0  # done
FAILURE = 1  # anything not covered below
USAGE = 2  # bad command line, settings or HEIDI_* environment value
AUTH_FAILED = 3  # API key / JWT refused
SERVER_UNREACHABLE = 4  # network down or server not answering; audio stays queued
CHUNKS_REJECTED = 5  # the server rejected one or more chunks; their audio is kept
AUDIO_INPUT = 6  # no input device, device lost, unreadable input file
SPOOL = 7  # data directory unusable: unwritable, full, damaged, or its key missing or wrong
INTERRUPTED = 130  # Ctrl-C before anything could be flushed (normally Ctrl-C stops cleanly with 0)
