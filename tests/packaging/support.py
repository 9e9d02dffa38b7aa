"""Shared by the packaging tests: what a build produced, and how to run what it built."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def build_package(out: Path, *, deb: bool = True, with_server: bool = False) -> Build:
    """Run `scripts/package.sh` into `out` (dist/ and build/ inside it) and describe the result.

    `with_server` builds the offline variant (local transcription server inside).
    """
    env = {
        **os.environ,
        "DISTPATH": str(out / "dist"),
        "WORKPATH": str(out / "build"),
        "PYTHON": sys.executable,
        "DEB_COMPRESSION": "none",  # the payload is what is tested; compression only costs time
    }
    env.pop("AMBIENT_BUNDLE_SERVER", None)
    started = time.time()
    head_before = git_head()
    done = subprocess.run(
        [
            "bash",
            "scripts/package.sh",
            *([] if deb else ["--no-deb"]),
            *(["--with-server"] if with_server else []),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"scripts/package.sh failed:\n{log[-4000:]}"
    name = "ambient-recorder-offline" if with_server else "ambient-recorder"
    bundle = out / "dist" / name
    debs = sorted((out / "dist").glob(f"{name}_*.deb"))
    return Build(
        bundle=bundle,
        executable=bundle / ("ambient-recorder.exe" if os.name == "nt" else "ambient-recorder"),
        deb=debs[0] if debs else None,
        log=log,
        started_at=started,
        heads=(head_before, git_head()),
    )


@contextmanager
def xvfb() -> Iterator[str]:
    """Run a private Xvfb server; yields its DISPLAY (":N")."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        assert number.isdigit(), f"Xvfb did not report a display: {number!r}"
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def window_titles(display: str) -> str:
    """`xwininfo -root -tree` of the display: every window with its title."""
    return subprocess.run(
        ["xwininfo", "-root", "-tree", "-display", display],
        capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip


@contextmanager
def running_app(
    command: list[str], env: dict[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start the desktop app, its output going to `log` (a pipe nobody reads could fill and
    block it); terminate it (then kill, if it hangs) on the way out."""
    with log.open("ab") as out:
        app = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        yield app
    finally:
        app.terminate()
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def wait_for_window(app: subprocess.Popen[bytes], display: str, title: str, limit_s: float) -> bool:
    """Poll until a window titled `title...` exists; False if the app died or `limit_s` passed."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and app.poll() is None:
        if f'"{title}' in window_titles(display):
            return True
        time.sleep(0.05)
    return False
