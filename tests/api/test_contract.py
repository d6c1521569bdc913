"""The app and ``openapi.yaml`` describe the same API."""

from __future__ import annotations

import base64
import re

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from gateway.api.contract import spec
from gateway.paths import OPENAPI_PATH
from tests.helpers import issue_keys, make_app

# Flask's own static route is not part of the API.
IGNORED = {"/static/<path:filename>"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def test_the_contract_reads_as_pyyamls_own_parser_reads_it() -> None:
    # The app parses it with libyaml where PyYAML has it: the same document.
    assert yaml.__with_libyaml__
    text = OPENAPI_PATH.read_text(encoding="utf-8")
    assert spec() == yaml.load(text, Loader=yaml.SafeLoader)


def test_every_route_is_in_the_contract_and_back(api_app) -> None:
    paths = spec()["paths"]
    routes: dict[str, set[str]] = {}
    for rule in api_app.url_map.iter_rules():
        if rule.rule in IGNORED:
            continue
        routes.setdefault(_openapi_path(rule.rule), set()).update(
            m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}
        )
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
    @settings(
        max_examples=20,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


# Hostile bodies: each must be refused with a 4xx problem, never a 5xx. They
# go to every operation that takes a body, in each media type it declares, as an admin.
_NESTED = b'{"a": ' * 2000 + b"1" + b"}" * 2000
HOSTILE_BODIES = {
    "nested-arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested-objects": _NESTED,
    "repeated-member": b'{"verifiableCredential": {}, "verifiableCredential": {}}',
    "nan": b'{"verifiableCredential": NaN, "reason": Infinity}',
    "overflow": b'{"exp": 1e999, "reason": -1e999}',
    "long-number": b'{"reason": ' + b"9" * 100_000 + b"}",
    "not-utf8": b'{"reason": "caf\xe9"}\n\xff\xfe\x00',
    "lone-surrogate": b'{"reason": "\\ud800", "verifiableCredential": {"id": "\\udfff"}}',
    "control-characters": b'{"reason": "a\\u0000\\r\\nSet-Cookie: x=1"}',
    # A compact JWS whose payload is nested arrays (vc+jwt bodies).
    "jws-nested-payload": b"eyJhbGciOiJFZERTQSJ9."
    + base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=")
    + b".c2ln",
}
BODY_OPERATIONS = [
    (method, path, media_type)
    for path, item in spec()["paths"].items()
    for method, operation in item.items()
    if method in ("post", "put", "patch")
    for media_type in (operation.get("requestBody") or {}).get("content", {})
]
# The same for query parameters that name a redirect target (CR/LF, other sites).
HOSTILE_TARGETS = [
    "/x\r\nSet-Cookie: stolen=1",
    "/\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "/" + "a" * 10_000,
]


def _path_parameters(operation) -> dict[str, str]:
    return {p.name: "Z9ZPEN8K52S96AE740000319" for p in operation.path_parameters}


@pytest.mark.parametrize(("method", "path", "media_type"), BODY_OPERATIONS)
@pytest.mark.parametrize("hostile", sorted(HOSTILE_BODIES))
def test_hostile_bodies_get_no_server_error(
    fuzz_schema, fuzz_app, method, path, media_type, hostile
) -> None:
    operation = fuzz_schema[path][method.upper()]
    case = operation.Case(path_parameters=_path_parameters(operation), media_type=media_type)
    headers = {**fuzz_app.config["fuzz_keys"]["admin"], "Content-Type": media_type}
    response = case.call(headers=headers, data=HOSTILE_BODIES[hostile])
    case.validate_response(response, checks=[checks.not_a_server_error])
    # 200 and 202: a bulk stream or job takes the body and refuses its lines one by one.
    assert 400 <= response.status_code < 500 or response.status_code in (200, 201, 202, 303)
    assert b"Traceback" not in response.content


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in spec()["paths"]
        if any(
            q.get("name") == "next"
            for op in spec()["paths"][p].values()
            if isinstance(op, dict)
            for q in op.get("parameters", [])
        )
    ],
)
@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_hostile_redirect_targets_stay_on_the_site(fuzz_schema, path, target) -> None:
    operation = fuzz_schema[path]["GET"]
    case = operation.Case(
        path_parameters={p.name: "zh" for p in operation.path_parameters}, query={"next": target}
    )
    response = case.call()
    case.validate_response(response, checks=[checks.not_a_server_error])
    location = response.headers.get("Location", [""])
    location = location[0] if isinstance(location, list) else location
    assert "\r" not in location and "\n" not in location and "evil" not in location
    assert not location.startswith("//") and "Set-Cookie" not in str(response.headers)


# Hostile values for every field of the page forms (urlencoded).
HOSTILE_FIELDS = {
    "nested-json": "[" * 100_000 + "]" * 100_000,
    "nan-and-repeat": '{"a": NaN, "a": 1e999}',
    "crlf": "/x\r\nSet-Cookie: stolen=1",
    "nul": "a\x00b",
    "long": "x" * 200_000,
}
FORM_OPERATIONS = [
    (path, list(content["schema"].get("properties", {})) or ["value"])
    for path, item in spec()["paths"].items()
    for method, operation in item.items()
    if method == "post"
    for media_type, content in (operation.get("requestBody") or {}).get("content", {}).items()
    if media_type == "application/x-www-form-urlencoded"
]


@pytest.mark.parametrize(("path", "fields"), FORM_OPERATIONS)
@pytest.mark.parametrize("hostile", sorted(HOSTILE_FIELDS))
def test_hostile_form_fields_get_no_server_error(
    fuzz_schema, fuzz_app, path, fields, hostile
) -> None:
    operation = fuzz_schema[path]["POST"]
    case = operation.Case(
        path_parameters=_path_parameters(operation), media_type="application/x-www-form-urlencoded"
    )
    response = case.call(
        headers=fuzz_app.config["fuzz_keys"]["admin"],
        data={name: HOSTILE_FIELDS[hostile] for name in fields},
    )
    case.validate_response(response, checks=[checks.not_a_server_error])
    assert "stolen" not in str(response.headers)
