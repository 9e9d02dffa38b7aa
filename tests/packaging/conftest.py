"""Fixtures for the packaging tests: one real PyInstaller build (+ .deb) per session.

The build goes through `scripts/package.sh` exactly as practice IT or CI runs
it, but into a temporary directory so it never collides with `dist/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.support import BUILD_TIMEOUT_S, REPO_ROOT, Build, git_head


@pytest.fixture(scope="session")
def package_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Build the workstation bundle and the .deb once for the whole session."""
    out = tmp_path_factory.mktemp("package")
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
        ["bash", "scripts/package.sh"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"scripts/package.sh failed:\n{log[-4000:]}"
    bundle = out / "dist" / "ambient-recorder"
    debs = sorted((out / "dist").glob("ambient-recorder_*.deb"))
    return Build(
        bundle=bundle,
        executable=bundle / ("ambient-recorder.exe" if os.name == "nt" else "ambient-recorder"),
        deb=debs[0] if debs else None,
        log=log,
        started_at=started,
        heads=(head_before, git_head()),
    )


@pytest.fixture
def xvfb_display(tmp_path: Path) -> Iterator[str]:
    """A private Xvfb server; yields its DISPLAY (":N")."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "xvfb.log").open("wb"),
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
