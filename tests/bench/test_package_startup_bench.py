"""Benchmark: start-up of the packaged app against the unpackaged one, measured in the same run.

Prints, for `--version` and for "main window mapped on an X server" (Xvfb,
xcb plugin), the first (cold-ish: right after the build) and the median of
warm starts, and the ratio bundle / unpackaged. The goal is a ratio <= 1.5;
it is printed, never asserted (tests/bench rule). Also prints the bundle size.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.packaging.support import (
    REPO_ROOT,
    build_package,
    bundle_env,
    running_app,
    wait_for_window,
    xvfb,
)

RUNS = 7
CLOSED_PORT = 9  # discard: nothing listens on loopback, the connection is refused at once


def _time_version(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--version"], env=bundle_env(), capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    return elapsed


def _time_window(command: list[str], display: str, log: Path) -> float:
    # The same work for both: a Heidi account configured (a closed loopback port), so the
    # unpackaged app, which has the server extra, does not load the local ASR model.
    env = bundle_env(
        QT_QPA_PLATFORM="xcb",
        DISPLAY=display,
        HEIDI_BASE_URL=f"http://127.0.0.1:{CLOSED_PORT}/api/v2/ml-scribe/open-api",
        HEIDI_API_KEY="bench-key-not-used",
    )
    started = time.perf_counter()
    with running_app(command, env, REPO_ROOT, log) as app:
        shown = wait_for_window(app, display, "Ambient Recorder", limit_s=120)
        elapsed = time.perf_counter() - started
        assert shown, f"the main window never appeared ({app.poll()}): {log.read_text()[-3000:]}"
    return elapsed


def _compare(name: str, bundle: Callable[[], float], unpackaged: Callable[[], float]) -> None:
    """Alternate the two (load from other processes drifts); print first run and medians."""
    pairs = [(bundle(), unpackaged()) for _ in range(RUNS + 1)]
    (b_first, u_first), warm = pairs[0], pairs[1:]
    b_median = statistics.median(b for b, _ in warm)
    u_median = statistics.median(u for _, u in warm)
    print(
        f"{name:>13}: bundle first {b_first:.2f} s, median {b_median:.2f} s | "
        f"unpackaged first {u_first:.2f} s, median {u_median:.2f} s | "
        f"ratio (median) {b_median / u_median:.2f}x (goal <= 1.5x)"
    )


@pytest.mark.bench
@pytest.mark.skipif(shutil.which("xwininfo") is None, reason="needs x11-utils")
def test_bundle_start_up_against_unpackaged(tmp_path: Path) -> None:
    build = build_package(tmp_path, deb=False)
    bundled = [str(build.executable)]
    unpackaged = [sys.executable, "-m", "recorder"]
    files = [f for f in build.bundle.rglob("*") if f.is_file() and not f.is_symlink()]
    print(f"\nbundle size: {sum(f.stat().st_size for f in files) / 1e6:.1f} MB")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    _compare("--version", lambda: _time_version(bundled), lambda: _time_version(unpackaged))
    with xvfb() as display:
        _compare(
            "window shown",
            lambda: _time_window(bundled, display, tmp_path / "bundle.log"),
            lambda: _time_window(unpackaged, display, tmp_path / "unpackaged.log"),
        )
