"""Property-based testing of the server against its own OpenAPI document (schemathesis).

Generated requests — valid (positive) and schema-violating (negative) — must never get a
5xx, and every 2xx body must match the documented schema. Path ids are swapped for a real
session and recording of the authenticated user half the time, so generated bodies get
past the 404 checks into the handlers.

(schemathesis' own pytest loader does not work with pytest 9, so the operations are
walked here and each gets a hypothesis test built from its strategy.)
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fixtures.local_server import LocalServerProcess
from tests.server.support import api_for

EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}


@pytest.fixture(scope="module")
def identity(local_server: LocalServerProcess) -> dict[str, str]:
    api = api_for(local_server.base_url, local_server.api_key, "fuzz@example.org", "fuzz")
    session_id = api.new_session()
    ids = {
        "session_id": session_id,
        "recording_id": api.new_recording(session_id),
        "authorization": api.client.headers["authorization"],
        "api_key": local_server.api_key,
    }
    api.client.close()
    return ids


def _exercise(case: Any, identity: dict[str, str], base_url: str) -> None:
    if case.path_parameters and zlib.crc32(repr((case.query, case.body)).encode()) % 2 == 0:
        for name in ("session_id", "recording_id"):
            if name in case.path_parameters:
                case.path_parameters[name] = identity[name]
    headers = {"Authorization": identity["authorization"], "Heidi-Api-Key": identity["api_key"]}
    response = case.call(base_url=base_url, headers=headers, timeout=60)
    checks = [not_a_server_error]
    if 200 <= response.status_code < 300:
        checks.append(response_schema_conformance)
    case.validate_response(response, checks=checks)


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: str(m.value))
def test_no_generated_request_breaks_the_server(
    local_server: LocalServerProcess, identity: dict[str, str], mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{local_server.root_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            _exercise(case, identity, local_server.root_url)

        if mode is GenerationMode.NEGATIVE and operation.label == "GET /healthz":
            continue  # no parameters, no body: nothing that could violate the schema
        run()
