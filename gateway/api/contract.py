"""Request bodies checked against the schemas of ``openapi.yaml``, the one contract.

A thin JSON Schema check (Draft 2020-12, the dialect of OpenAPI 3.1) of the JSON bodies,
rather than openapi-core's full request validation: records arrive as JSON *or* XML and
in bulk as an NDJSON stream, which a whole-body validator cannot read, and the record
model's own validator names the field at fault more precisely than the contract could.
Query parameters are checked where they are read.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no hints
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.errors import InvalidInput
from gateway.paths import OPENAPI_PATH

_URI = "urn:cn-eu-battery:openapi"
# At most this many schema errors are reported for one body.
MAX_ERRORS = 20


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """``openapi.yaml``, parsed."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


@cache
def _validator(name: str) -> Draft202012Validator:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry = Registry().with_resource(_URI, resource)
    return Draft202012Validator({"$ref": f"{_URI}#/components/schemas/{name}"}, registry=registry)


def _pointer(path: Any) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in path)


def validate(name: str, body: Any) -> None:
    """Check a body against ``components/schemas/<name>``.

    :raises InvalidInput: with ``errors``: ``{"pointer", "message"}`` per problem.
    """
    errors = sorted(_validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    listed = [
        {"pointer": _pointer(e.absolute_path), "message": e.message} for e in errors[:MAX_ERRORS]
    ]
    first = listed[0]
    raise InvalidInput(
        f"{first['pointer'] or '/'}: {first['message']}",
        pointer=first["pointer"] or "/",
        errors=listed,
    )
