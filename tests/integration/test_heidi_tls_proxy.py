"""Practice networks: TLS verified (OS store + a CA bundle setting), proxies from settings or env.

A TLS server on 127.0.0.1 with a certificate for `heidi.test` signed by a throwaway CA, reached
only through a real CONNECT proxy on 127.0.0.1 (which sends every tunnel to that server, so no
name is ever resolved and nothing leaves the machine).
"""

from __future__ import annotations

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

    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").strip()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        self.seen.append(line)
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


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    ca, cert, key = _cert_pair(tmp_path)
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    api.socket = context.wrap_socket(api.socket, server_side=True)
    tunnel_handler = type(
        "T", (Tunnel,), {"target": ("127.0.0.1", api.server_address[1]), "seen": []}
    )
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), tunnel_handler)
    proxy.daemon_threads = True
    threads = [
        threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True) for s in (api, proxy)
    ]
    for thread in threads:
        thread.start()
    yield Network(ca, f"http://127.0.0.1:{proxy.server_address[1]}", tunnel_handler.seen)
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
