"""The app and ``openapi.yaml`` describe the same API."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from gateway.api.contract import spec
from tests.api.conftest import issue_keys, make_app

# Flask's own static route is not part of the API.
IGNORED = {"/static/<path:filename>"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_is_in_the_contract_and_back(api_app) -> None:
    paths = spec()["paths"]
    routes: dict[str, set[str]] = {}
    for rule in api_app.url_map.iter_rules():
        if rule.rule in IGNORED:
            continue
        routes.setdefault(_openapi_path(rule.rule), set()).update(
            m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    documented = {path: set(ops) - {"parameters"} for path, ops in paths.items()}
    assert routes == documented


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value) -> bytes:
    # The contract describes the stream as text; send what was generated as its lines.
    return value.encode("utf-8") if isinstance(value, str) else b""


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("fuzz") / "instance")
    app.config["fuzz_keys"] = issue_keys(app.extensions["gateway.settings"])
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/openapi.yaml", fuzz_app)


# No 5xx, and every response as the contract says. Not schemathesis's "schema-valid data
# is accepted" check: a string the contract allows can still be a battery code that does
# not decode, or a record the record model refuses, which is a 4xx by design.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]

# The operations, from the contract itself; schemathesis's own pytest plugin is not used
# because it does not run under this pytest version.
OPERATIONS = [
    (method, path)
    for path, item in spec()["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_server_errors_and_no_response_off_contract(fuzz_schema, fuzz_app, method, path):
    operation = fuzz_schema[path][method.upper()]
    headers = fuzz_app.config["fuzz_keys"]["admin"]

    # As an admin, so generated requests get past authentication into the handlers.
    @given(case=operation.as_strategy())
    @settings(max_examples=20, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
