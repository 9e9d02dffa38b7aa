"""Fixtures for the packaging tests: one real PyInstaller build (+ .deb) per session.

The build goes through `scripts/package.sh` exactly as practice IT or CI runs
it, but into a temporary directory so it never collides with `dist/`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.packaging.support import Build, build_package, xvfb


@pytest.fixture(scope="session")
def package_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Build the workstation bundle and the .deb once for the whole session."""
    return build_package(tmp_path_factory.mktemp("package"))


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A private Xvfb server; yields its DISPLAY (":N")."""
    with xvfb() as display:
        yield display
