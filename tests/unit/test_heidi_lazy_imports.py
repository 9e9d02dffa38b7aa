"""The core opens its spool without loading the HTTP stack; `recorder.heidi` names still work.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import recorder.heidi
from recorder.heidi.client import HeidiClient, Timeouts
from recorder.heidi.errors import ConfigError, TLSError
from recorder.heidi.models import LiveTranscript, Token

# Loaded only when a key is read (keyring) or the uplink starts (the rest).
DEFERRED = ("httpx", "tenacity", "keyring", "truststore", "recorder.heidi.client")


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    return [name for name in DEFERRED if name in modules]


def test_importing_the_core_leaves_the_http_stack_and_keyring_unloaded() -> None:
    assert _loaded_after("import recorder.core") == []


def test_the_uplink_module_needs_no_http_client_until_it_starts() -> None:
    assert _loaded_after("import recorder.uplink, recorder.settings, recorder.app_settings") == []


def test_a_package_level_name_loads_its_submodule() -> None:
    assert "recorder.heidi.client" in _loaded_after("from recorder.heidi import HeidiClient")


def test_package_level_names_are_the_submodules_classes() -> None:
    from recorder.heidi import ConfigError as Config
    from recorder.heidi import HeidiClient as Client
    from recorder.heidi import LiveTranscript as Live
    from recorder.heidi import Timeouts as Times
    from recorder.heidi import TLSError as TLS
    from recorder.heidi import Token as Tok

    assert (Client, Times, Config, TLS, Live, Tok) == (
        HeidiClient,
        Timeouts,
        ConfigError,
        TLSError,
        LiveTranscript,
        Token,
    )
    assert set(recorder.heidi.__all__) <= set(dir(recorder.heidi))
    assert all(getattr(recorder.heidi, name) is not None for name in recorder.heidi.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'HeidiClinet'"):
        _ = recorder.heidi.HeidiClinet
