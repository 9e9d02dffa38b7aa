"""The core opens its spool without loading the HTTP stack or keyring.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

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
