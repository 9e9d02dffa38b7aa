"""Shared by the packaging tests: what a build produced, and how to run what it built."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Build:
    """What one `scripts/package.sh` run produced."""

    bundle: Path  # the onedir bundle
    executable: Path  # bundle/ambient-recorder
    deb: Path | None  # the .deb (Linux with dpkg-deb only)
    log: str  # package.sh's output
    started_at: float  # time.time() just before the build
    heads: tuple[str, ...]  # git HEAD just before and just after the build


def bundle_env(**extra: str) -> dict[str, str]:
    """Environment for running the built executable: offscreen Qt, no Heidi account."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    for key in ("HEIDI_BASE_URL", "HEIDI_API_KEY", "HEIDI_EMAIL", "HEIDI_USER_ID", "PYTHONPATH"):
        env.pop(key, None)
    env.update(extra)
    return env


def git_head() -> str:
    """The full commit id of the repository's HEAD."""
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
