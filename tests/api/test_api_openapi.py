"""The OpenAPI document against the running service: complete (every path parameter, every
error status in Azure's error schema), and a bounded property-based fuzz run (schemathesis,
valid and invalid data, with a valid key) whose every answer must be described by it and none
be a server error.

The run is derandomized (the same cases each time, within the suite's time budget). A wider
run: ``ROSTRO_FUZZ_EXAMPLES=40 ROSTRO_FUZZ_RANDOM=1 pytest tests/api/test_api_openapi.py -s``.
"""

from __future__ import annotations

import collections
import json
import os
import re

import pytest
import requests

from rostro.api.openapi import ERROR_STATUSES

EXAMPLES = int(os.environ.get("ROSTRO_FUZZ_EXAMPLES", "6"))  # per operation, valid or not
#: A URL scheme followed by anything but the loopback address: the fuzz never sends the
#: service to fetch from another machine.
REMOTE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:/+(?!127\.0\.0\.1[:/])")


@pytest.fixture(scope="module")
def document(service) -> dict:
    return requests.get(service.url("/openapi.json"), timeout=30).json()


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_path_parameter_is_declared(document):
    for path, method, operation in _operations(document):
        declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        assert declared == re.findall(r"\{([^}]+)\}", path), (method, path)
    snapshot = document["paths"]["/face/v1.0/snapshots/{snapshotId}/apply"]["post"]
    assert [p["name"] for p in snapshot["parameters"]] == ["snapshotId"]


def test_every_error_status_is_described_in_azures_error_schema(document):
    assert document["components"]["schemas"]["APIError"]["properties"]["error"] == \
        {"$ref": "#/components/schemas/Error"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "422" not in responses, (method, path)  # a request that does not validate: 400
        errors = {int(s) for s in responses if s[0] in "45"}
        assert {401, 500} <= errors <= set(ERROR_STATUSES), (method, path)
        if path.startswith("/face/"):
            assert {403, 429} <= errors and "Retry-After" in responses["429"]["headers"]
        for status in errors:
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/APIError"}, (method, path, status)
    detect = document["paths"]["/face/v1.0/detect"]["post"]["responses"]
    assert {"400", "401", "403", "415", "429", "500"} <= set(detect)
    create = document["paths"]["/face/v1.0/persongroups/{personGroupId}"]["put"]["responses"]
    assert "409" in create and "content" not in create["200"]  # Azure's empty 200


def _fuzz_document(document: dict, image_url: str) -> dict:
    """The document with each image ``url`` limited to a photo on the local image server and
    an address that refuses connections (the fuzz must not reach outside the machine)."""
    document = json.loads(json.dumps(document))
    for _, _, operation in _operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if "url" in schema.get("properties", {}):
            schema["properties"]["url"] = {"type": "string",
                                           "enum": [image_url, "http://127.0.0.1:1/x.jpg"]}
    return document


def _local_only(case) -> bool:
    body = case.body
    return isinstance(body, (bytes, bytearray)) or not REMOTE.search(json.dumps(body, default=str))


def test_fuzz_statuses_and_shapes_match_the_document(service, document, image_server):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation.modes import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    created = service.cli("resources", "create", "fuzz", "--tier", "unlimited")
    key = re.search(r"KEY 1:\s+(\w+)", created.stdout).group(1)  # its own containers
    schema = schemathesis.openapi.from_dict(_fuzz_document(document, image_server.url("face.jpg")))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance, response_headers_conformance]
    session = requests.Session()
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE)).filter(_local_only)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  derandomize=not os.environ.get("ROSTRO_FUZZ_RANDOM"),
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        @given(case=strategy)
        def call(case) -> None:
            try:
                response = case.call_and_validate(
                    base_url=service.base, session=session, timeout=60, checks=checks,
                    headers={"Ocp-Apim-Subscription-Key": key})
                statuses[response.status_code] += 1
            except (AssertionError, BaseExceptionGroup) as failure:  # schemathesis' failures
                statuses["failed"] += 1
                failures.append(f"{operation.label}: {failure}"[:2000])  # noqa: B023 (runs now)

        call()

    sent = sum(statuses.values())
    # The summary docs/security.md quotes (with -s): test output, not a log line.
    print(f"\nfuzz: {sent} requests, {EXAMPLES} examples per operation, "  # noqa: T201
          f"statuses {dict(sorted(statuses.items(), key=str))}")
    assert not failures, "\n\n".join(failures[:5])
    assert statuses[500] == 0 and sent >= 100
    assert requests.get(service.url("/rostro/v1.0/usage"), timeout=30,
                        headers={"Ocp-Apim-Subscription-Key": key}).status_code == 200
