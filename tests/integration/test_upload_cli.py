"""`upload`, `transcript` (and their errors) through the real CLI entry point and local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recorder import exit_codes
from recorder.cli import main
from tests.fixtures.local_server import LocalServerProcess
from tests.integration.heidi_helpers import EMAIL, USER_ID, consult_ogg, make_client, words


@pytest.fixture
def heidi_env(monkeypatch: pytest.MonkeyPatch, local_server: LocalServerProcess) -> str:
    monkeypatch.setenv("HEIDI_API_KEY", local_server.api_key)
    monkeypatch.setenv("HEIDI_EMAIL", EMAIL)
    monkeypatch.setenv("HEIDI_USER_ID", USER_ID)
    monkeypatch.delenv("HEIDI_BASE_URL", raising=False)
    return local_server.base_url


@pytest.fixture
def ogg_file(tmp_path: Path) -> Path:
    path = tmp_path / "consult-start.ogg"
    path.write_bytes(consult_ogg(0, 8))
    return path


def test_upload_then_transcript_final_and_live(
    heidi_env: str,
    ogg_file: Path,
    capsys: pytest.CaptureFixture[str],
    local_server: LocalServerProcess,
) -> None:
    assert main(["upload", str(ogg_file), "--consent", "--server", heidi_env]) == exit_codes.OK
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("session ")
    session_id = out[-1].split()[1]
    assert "morning" in words(" ".join(out[:-1]))
    with make_client(heidi_env, local_server.api_key) as client:  # told as `record` tells it
        session = client.get_session(session_id)
    assert session.consent_obtained is True
    assert session.duration_s == 8

    assert main(["transcript", session_id, "--server", heidi_env]) == exit_codes.OK
    assert "morning" in words(capsys.readouterr().out)

    assert main(["transcript", session_id, "--live", "--json", "--server", heidi_env]) == 0
    live = json.loads(capsys.readouterr().out)
    assert live["session_id"] == session_id
    assert [c["status"] for c in live["chunks"]] == ["READY"]

    assert (
        main(
            [
                "transcript",
                session_id,
                "--live",
                "--follow",
                "--timeout",
                "0.5",
                "--server",
                heidi_env,
            ]
        )
        == exit_codes.OK
    )
    assert "[0] READY" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.ogg", "empty"),
        (b"hello, not audio" * 50, "notes.ogg", "not readable audio"),
        (b"RIFF", "x.txt", "Unsupported audio file type"),
    ],
)
def test_upload_refuses_bad_files_before_any_network(
    heidi_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    name: str,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["upload", str(path), "--server", heidi_env]) == exit_codes.AUDIO_INPUT
    assert message in capsys.readouterr().err


def test_cli_exit_codes_for_auth_unreachable_and_unknown_session(
    heidi_env: str,
    ogg_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["transcript", "no-such-session", "--server", heidi_env]) == exit_codes.FAILURE
    err = capsys.readouterr().err
    assert "404" in err
    assert main(["upload", str(ogg_file), "--server", "http://127.0.0.1:9/api"]) == (
        exit_codes.SERVER_UNREACHABLE
    )
    assert "cannot connect" in capsys.readouterr().err
    assert main(["upload", str(ogg_file), "--server", "http://example.test/api"]) == (
        exit_codes.USAGE
    )
    assert "https" in capsys.readouterr().err
    monkeypatch.setenv("HEIDI_API_KEY", "wrong")
    assert main(["upload", str(ogg_file), "--server", heidi_env]) == exit_codes.AUTH_FAILED
    assert "access refused" in capsys.readouterr().err


def test_upload_local_starts_the_embedded_server(
    tmp_path: Path, ogg_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    assert main(["upload", str(ogg_file), "--local", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "morning" in words(out)
    assert (data_dir / "local-server").is_dir()
