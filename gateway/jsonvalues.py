"""Checks on plain JSON data shared by every layer that stores or signs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pointer_token(key: object) -> str:
    """A JSON pointer reference token (RFC 6901 §3: ``~`` and ``/`` escaped)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def first_float(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first float in ``value``, or None.

    DESIGN §5: decimals travel as strings. A float's text is not stable across JSON
    processors and stores (JSON-LD makes it an xsd:double written differently by pyld and
    jsonld.js; PostgreSQL ``jsonb`` keeps numbers as decimals), which would break
    signatures and hashes.
    """
    if isinstance(value, float):
        return pointer or "/"
    if isinstance(value, Mapping):
        items = ((pointer_token(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for token, item in items:
        found = first_float(item, f"{pointer}/{token}")
        if found is not None:
            return found
    return None
