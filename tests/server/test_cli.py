"""The `serve` command line, the embedded starter, and the server's network behaviour."""

from __future__ import annotations

import argparse
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from recorder.commands import serve
from recorder.errors import RecorderError
from server.embedded import start_local_server
from server.runner import make_server
from tests.fixtures.local_server import REPO_ROOT, LocalServerProcess
from tests.server.support import api_for

URL = re.compile(
    r"Serving the Heidi-compatible API at (http://127\.0\.0\.1:\d+/api/v2/ml-scribe/open-api)"
)


def _read_until(process: subprocess.Popen[str], pattern: re.Pattern[str]) -> tuple[str, str]:
    seen = ""
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        if match := pattern.search(line):
            return match.group(1), seen
    raise AssertionError(f"no match for {pattern.pattern} in:\n{seen}")


def test_serve_prints_the_url_generates_a_private_key_once_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    """First `python -m server` stopped by SIGTERM, then `ambient-recorder serve` by Ctrl-C."""
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "AMBIENT_SERVER_API_KEY"}
    env["AMBIENT_SERVER_DATA_DIR"] = str(data_dir)
    keys = []
    runs = [(["-m", "server"], signal.SIGTERM), (["-m", "recorder", "serve"], signal.SIGINT)]
    for number, (command, stop_signal) in enumerate(runs):
        process = subprocess.Popen(
            [sys.executable, *command, "--port", "0"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base_url, output = _read_until(process, URL)
            key_file = data_dir / "api_key"
            keys.append(key_file.read_text())
            printed = re.findall(r"API key \(generated once.*\): (\S+)", output)
            assert printed == ([keys[0]] if number == 0 else [])
            assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
            assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
            api = api_for(base_url, keys[-1])
            assert api.new_session()
            api.client.close()
            process.send_signal(stop_signal)
            rest, _ = process.communicate(timeout=30)
        finally:
            process.kill()
        assert process.returncode == 0, rest
        assert "Server stopped." in rest
    assert keys[0] == keys[1]


def test_serve_refuses_a_bad_model_folder_and_a_taken_port(
    tmp_path: Path, local_server: LocalServerProcess
) -> None:
    base = [sys.executable, "-m", "server", "--data-dir", str(tmp_path), "--api-key", "k" * 12]
    bad_model = subprocess.run(
        [*base, "--model", str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert bad_model.returncode == 2 and "no CTranslate2 model" in bad_model.stderr
    taken = subprocess.run(
        [*base, "--port", str(local_server.port)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert taken.returncode == 4 and "cannot listen" in taken.stderr


def test_the_recorder_serve_command_parses_the_server_options() -> None:
    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["serve", "--port", "0", "--workers", "2", "--jwt-ttl", "60", "--api-key", "abcdefgh12"]
    )
    assert args.run is serve.run
    assert (args.host, args.port, args.workers, args.jwt_ttl) == ("127.0.0.1", 0, 2, 60)
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--workers", "0"])


def test_without_the_server_extra_serve_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['faster_whisper'] = None\n"
        "from recorder.commands import serve\n"
        "from recorder.errors import RecorderError\n"
        "try:\n    serve.run(None)\nexcept RecorderError as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == serve.INSTALL_HINT
    assert "pip install ambient-recorder[server]" in serve.INSTALL_HINT
    assert issubclass(RecorderError, Exception)


def test_idle_connections_are_closed_by_the_client_not_the_server() -> None:
    """A server closing an idle keep-alive connection as the client reuses it resets that
    request; the server must keep idle connections longer than the client pools them."""
    client_keeps_s = httpx.Limits().keepalive_expiry
    assert client_keeps_s is not None
    server = make_server(FastAPI())
    assert server.config.timeout_keep_alive > 2 * client_keeps_s


def test_embedded_server_runs_in_a_thread_on_a_free_loopback_port(tmp_path: Path) -> None:
    server = start_local_server(tmp_path / "embedded", jwt_ttl_s=120)
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/api/v2/ml-scribe/open-api")
        assert (tmp_path / "embedded" / "api_key").read_text() == server.api_key
        api = api_for(server.base_url, server.api_key)
        session_id = api.new_session()
        assert api.live(session_id)["chunks"] == []
        api.client.close()
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url.replace("/api/v2/ml-scribe/open-api", "/healthz"))
    again = start_local_server(tmp_path / "embedded", port=server.port)
    try:
        assert again.api_key == server.api_key and again.port == server.port
    finally:
        again.stop()


_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/strace").exists(), reason="needs strace")
def test_the_server_connects_to_nothing_but_loopback(
    tmp_path: Path, short_chunks: list[bytes]
) -> None:
    """Under strace: start, JWT, upload, model load, transcription — no outbound connection."""
    trace = tmp_path / "connect.trace"
    server = LocalServerProcess(
        data_dir=tmp_path / "data",
        wrapper=[
            "strace",
            "-f",
            "-qq",
            "-e",
            "signal=none",
            "-e",
            "trace=bind,connect,sendto,sendmsg",
            "-o",
            str(trace),
        ],
    )
    server.start()
    try:
        api = api_for(server.base_url, server.api_key)
        session_id = api.new_session()
        recording_id = api.new_recording(session_id)
        assert api.send_chunk(session_id, recording_id, 0, short_chunks[0]).status_code == 200
        body = api.wait_settled(session_id)
        assert body["chunks"][0]["status"] == "READY" and body["transcript"]
        api.client.close()
    finally:
        assert server.process is not None
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        for pid in children.read_text().split():
            os.kill(int(pid), signal.SIGTERM)
        server.stop()
    lines = trace.read_text().splitlines()
    # The trace works: it saw the server bind its loopback socket.
    assert any("bind(" in line and '"127.0.0.1"' in line for line in lines)
    outgoing = [line for line in lines if re.search(r"\b(connect|sendto|sendmsg)\(", line)]
    addresses = {a or b for line in outgoing for a, b in _ADDRESS.findall(line)}
    assert addresses <= {"127.0.0.1", "::1", "0.0.0.0"}, addresses
    families = set(re.findall(r"sa_family=(AF_\w+)", "\n".join(outgoing)))
    assert families <= {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNSPEC"}, families
