"""Request bodies checked against the schemas of ``openapi.yaml``, the one contract.

A JSON Schema check (Draft 2020-12, the dialect of OpenAPI 3.1) of the JSON bodies,
rather than openapi-core's full request validation: records arrive as JSON *or* XML and
in bulk as an NDJSON stream, which a whole-body validator cannot read, and the record
model's own validator names the field at fault more precisely than the contract could.
Query parameters are checked where they are read.

Each schema is compiled once per process by ``jsonschema_rs`` (a compiled Draft 2020-12
validator): the pure-Python ``jsonschema`` walked the spec's ``$ref``s through its
registry on every request, a tenth of a millisecond per verify request spent before
the verifier starts.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import jsonschema_rs
import yaml

from gateway.errors import InvalidInput, UnsafeInput
from gateway.paths import OPENAPI_PATH

# At most this many schema errors are reported for one body.
MAX_ERRORS = 20
# Longest schema message told back; a longer one quotes the value it refuses, which the
# caller sent and may be huge, so only the rule is told.
MAX_MESSAGE = 200


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """``openapi.yaml``, parsed (once per process, at the first request with a body)."""
    # libyaml's parser, where PyYAML was built with it (its wheels are): 40 ms instead
    # of 240 for the first such request of a worker, and some 2 MB less left behind.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: dict[str, Any] = yaml.load(OPENAPI_PATH.read_text(encoding="utf-8"), Loader=loader)
    return document


@cache
def _validator(name: str) -> Any:
    # The components travel with the root, so every "#/components/..." reference of the
    # spec resolves inside the one compiled schema.
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec()["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def _pointer(path: Any) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in path)


def _message(error: Any) -> str:
    message = str(error.message)
    if len(message) <= MAX_MESSAGE:
        return message
    rule = type(error.kind).__name__
    return f"the value breaks the schema rule {rule} (not repeated here: {len(message)} characters)"


def validate(name: str, body: Any) -> None:
    """Check a body against ``components/schemas/<name>``.

    :raises InvalidInput: with ``errors``: ``{"pointer", "message"}`` per problem.
    """
    validator = _validator(name)
    try:
        if validator.is_valid(body):
            return
        errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.instance_path)))
    except UnicodeEncodeError:
        # A lone UTF-16 surrogate (JSON allows the escape "\ud800"): not text, and the
        # compiled validator reads strings as UTF-8.
        raise UnsafeInput("the body holds a lone UTF-16 surrogate, which is not text") from None
    listed = [
        {"pointer": _pointer(e.instance_path), "message": _message(e)} for e in errors[:MAX_ERRORS]
    ]
    first = listed[0]
    raise InvalidInput(
        f"{first['pointer'] or '/'}: {first['message']}",
        pointer=first["pointer"] or "/",
        errors=listed,
    )
