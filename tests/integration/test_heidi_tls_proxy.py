"""Practice networks: TLS verified (OS store + a CA bundle setting), proxies from settings or env.

A TLS server on 127.0.0.1 with a certificate for `heidi.test` signed by a throwaway CA, reached
only through a real CONNECT proxy on 127.0.0.1 (which sends every tunnel to that server, so no
name is ever resolved and nothing leaves the machine).
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from recorder.heidi.client import HeidiClient, Timeouts
from recorder.heidi.errors import TLSError

TOKEN = {"token": "t", "expiration_time": "2099-01-01T00:00:00Z"}


def _cert_pair(tmp: Path) -> tuple[Path, Path, Path]:
    """(CA pem, leaf cert pem, leaf key pem) for host heidi.test."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Practice Proxy Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "heidi.test")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("heidi.test")]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "ca.pem", tmp / "leaf.pem", tmp / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class Api(http.server.BaseHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps(TOKEN if self.path.startswith("/api/jwt") else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"session_id": "tls-session"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Tunnel(socketserver.StreamRequestHandler):
    """CONNECT proxy: every tunnel goes to the TLS server, whatever host was asked for."""

    target: tuple[str, int] = ("127.0.0.1", 0)
    seen: list[str] = []  # noqa: RUF012 (set per test)
    logins: list[str] = []  # noqa: RUF012 (each CONNECT's Proxy-Authorization, "" if none)

    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").strip()
        login = ""
        while (header := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "proxy-authorization":
                login = value.strip()
        self.seen.append(line)
        self.logins.append(login)
        if not line.startswith("CONNECT "):
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection(self.target)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        sockets = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 60)  # idle: the client left
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()


@dataclass
class Network:
    ca: Path
    proxy_url: str
    seen: list[str]
    logins: list[str]


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    ca, cert, key = _cert_pair(tmp_path)
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    api.socket = context.wrap_socket(api.socket, server_side=True)
    tunnel_handler = type(
        "T",
        (Tunnel,),
        {"target": ("127.0.0.1", api.server_address[1]), "seen": [], "logins": []},
    )
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), tunnel_handler)
    proxy.daemon_threads = True
    threads = [
        threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True) for s in (api, proxy)
    ]
    for thread in threads:
        thread.start()
    yield Network(
        ca,
        f"http://127.0.0.1:{proxy.server_address[1]}",
        tunnel_handler.seen,
        tunnel_handler.logins,
    )
    for server in (api, proxy):
        server.shutdown()
        server.server_close()


def _client(**kw: object) -> HeidiClient:
    return HeidiClient(
        "https://heidi.test/api",
        "key",
        email="a@example.org",
        user_id="u",
        timeouts=Timeouts(connect=30, read=30, write=30, pool=30),  # never the deciding factor
        **kw,  # type: ignore[arg-type]
    )


def test_untrusted_certificate_is_refused_with_a_clear_hint(network: Network) -> None:
    with _client(proxy=network.proxy_url) as client, pytest.raises(TLSError) as caught:
        client.create_session()
    assert "not trusted" in str(caught.value) and "CA bundle" in str(caught.value)
    assert network.seen == ["CONNECT heidi.test:443 HTTP/1.1"]


def test_ca_bundle_setting_trusts_an_inspecting_proxy(network: Network) -> None:
    with _client(proxy=network.proxy_url, ca_bundle=str(network.ca)) as client:
        assert client.create_session() == "tls-session"
    assert all(line.startswith("CONNECT heidi.test:443") for line in network.seen)


def test_proxy_comes_from_the_environment(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", network.proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with _client(ca_bundle=str(network.ca)) as client:
        assert client.create_session() == "tls-session"
    assert network.seen  # it really went through the proxy


def test_a_proxy_password_from_the_keyring_reaches_the_proxy(
    network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved through the core: settings.json holds the proxy without its password, the keyring
    holds the password, and the client built from the saved settings logs in to the proxy."""
    from recorder.core import AmbientCore
    from recorder.settings import Settings, load_settings, settings_path
    from recorder.uplink import resolve_target
    from tests.fixtures.keyrings import keyring_backend
    from tests.ui.file_keyring import FileKeyring

    monkeypatch.setenv("HEIDI_API_KEY", "sk-test-key-1234")
    password = "Pa:ss@w0rd!"
    host = network.proxy_url.removeprefix("http://")
    settings = Settings(
        base_url="https://heidi.test/api",
        email="dr@practice.example",
        user_id="u",
        proxy_url=f"http://dr:{password}@{host}",
        ca_bundle=str(network.ca),
    )
    with keyring_backend(FileKeyring(tmp_path / "keyring.json")) as store:
        core = AmbientCore(lambda _event: None, data_dir=tmp_path / "data", settings=Settings())
        try:
            core.apply_settings(settings)
        finally:
            core.shutdown()
        saved_text = settings_path().read_text(encoding="utf-8")
        assert password not in saved_text
        assert json.loads(saved_text)["proxy_url"] == f"http://dr@{host}"
        assert store.get_password("AmbientRecorder", "proxy-password") == password
        assert password not in repr(core.settings)
        network.logins.clear()
        target = resolve_target(load_settings(), tmp_path / "data")
        assert password not in repr(target)
        assert target.api_key == "sk-test-key-1234" and target.api_key not in repr(target)
        with target.client() as client:
            assert client.create_session() == "tls-session"
    expected = "Basic " + base64.b64encode(f"dr:{password}".encode()).decode()
    assert network.logins and set(network.logins) == {expected}
