"""TLS for practice networks: the OS trust store, plus an optional CA bundle for inspecting proxies.

Verification is never switched off: a proxy that re-signs TLS with its own CA
is handled by trusting that CA (`ca_bundle` setting), not by trusting anyone.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import truststore

from recorder.heidi.errors import ConfigError


def make_ssl_context(ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    """An SSLContext that verifies against the OS store and, if given, an extra PEM CA file."""
    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        path = Path(ca_bundle).expanduser()
        if not path.is_file():
            raise ConfigError(f"The CA bundle file does not exist: {path}")
        try:
            context.load_verify_locations(cafile=str(path))
        except (ssl.SSLError, OSError, ValueError) as error:
            raise ConfigError(
                f"The CA bundle file could not be read as PEM certificates: {path} ({error})"
            ) from None
    return context
