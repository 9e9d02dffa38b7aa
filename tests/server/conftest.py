"""Shared fixtures of the server tests: the consult cut into chunks, an authenticated API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import Api, api_for, quiet_cuts, read_consult, split, write_ogg


@pytest.fixture(scope="session")
def consult_chunks(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """samples/consult.ogg cut at quiet moments into 45-60 s OGG Vorbis chunks."""
    audio = read_consult()
    folder = tmp_path_factory.mktemp("consult_chunks")
    chunks = split(audio, quiet_cuts(audio))
    return [
        write_ogg(folder / f"chunk{i}.ogg", chunk).read_bytes() for i, chunk in enumerate(chunks)
    ]


@pytest.fixture(scope="session")
def short_chunks(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Four short (6 s) speech chunks: cheap to transcribe, for queue and restart tests."""
    audio = read_consult()
    folder = tmp_path_factory.mktemp("short_chunks")
    return [
        write_ogg(folder / f"short{i}.ogg", audio[i * 96000 : (i + 1) * 96000]).read_bytes()
        for i in range(4)
    ]


@pytest.fixture
def api(local_server: LocalServerProcess) -> Iterator[Api]:
    """A fresh user on the shared server, so tests never see each other's sessions."""
    result = api_for(
        local_server.base_url,
        local_server.api_key,
        email=f"{uuid.uuid4().hex[:8]}@example.org",
        user_id=uuid.uuid4().hex,
    )
    try:
        yield result
    finally:
        result.client.close()


@pytest.fixture
def tmp_audio(tmp_path: Path) -> Path:
    return tmp_path
