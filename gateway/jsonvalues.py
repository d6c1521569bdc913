"""Rules on plain JSON values shared by every layer that reads, stores or signs them.

DESIGN §5: no JSON floats (non-integer quantities are decimal strings), integers within
what every JSON parser keeps exact, and one set of JSON types for catalog attributes.
The record schema refuses at the door what the verifier would refuse at the end, by the
same limits defined here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, TypeGuard, get_args

from gateway.jsonpointer import escape

#: Largest integer an IEEE double holds exactly together with its neighbours (RFC 8259 §6,
#: I-JSON RFC 7493 §2.2, ECMAScript ``Number.MAX_SAFE_INTEGER``). 2^53 itself is not
#: safe: ``2**53 + 1`` reads back as 2^53 in JavaScript, so a verifier cannot tell them
#: apart.
MAX_SAFE_INTEGER = 2**53 - 1

#: The JSON type of a catalog attribute's value: a JSON integer, or a string of one
#: lexical form (decimals travel as strings, dates as ISO 8601 text).
JsonType = Literal["string", "integer", "decimal-string", "date", "year-month", "uri"]
JSON_TYPES: tuple[JsonType, ...] = get_args(JsonType)
#: What a reader of passports accepts for the string JSON types: the ``xsd:decimal`` and
#: ``xsd:gYearMonth`` lexical forms in ASCII digits, without sign ``+`` or time zone.
DECIMAL_LEXICAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
YEAR_MONTH_LEXICAL = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")
#: What the gateway writes into a passport: the same types in canonical form (no
#: leading zeros, no trailing fractional zeros) and strings without control characters,
#: which pyld and jsonld.js canonicalize differently.
WRITTEN_FORMS: Mapping[str, re.Pattern[str]] = {
    "decimal-string": re.compile(r"^-?(0|[1-9]\d*)(\.\d*[1-9])?$"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "year-month": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
    "uri": re.compile(r"^(https?|urn|did):\S+$"),
    "string": re.compile(r"^[^\x00-\x1f\x7f]*$"),
}
#: Kinds of value in a record's open-ended blocks (``eu_supplement``,
#: ``platform_fields``): the catalog's JSON types plus ``boolean``.
VALUE_KINDS: tuple[str, ...] = (*JSON_TYPES, "boolean")


def is_safe_integer(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a JSON integer (not a boolean) within ±:data:`MAX_SAFE_INTEGER`."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    )


def first_float(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first float in ``value``, or None.

    DESIGN §5: decimals travel as strings. A float's text is not stable across JSON
    processors and stores (JSON-LD makes it an xsd:double written differently by pyld and
    jsonld.js; PostgreSQL ``jsonb`` keeps numbers as decimals), which would break
    signatures and hashes.
    """
    # Pointers are built only on the way to a float that is there: the walk runs over
    # every credential and audit event the gateway writes, which hold none.
    return _float_pointer(value, pointer) if _holds_float(value) else None


def _holds_float(value: Any) -> bool:
    # Recursive, as _float_pointer is: the values walked are bounded in depth (parsed
    # text by jsontext.MAX_DEPTH, the rest built by the gateway), and a call per
    # container costs less than a stack of every value; strings, integers and None,
    # most of the values, are passed over without a call.
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif isinstance(value, float):
        return True
    elif isinstance(value, Mapping):
        items = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return False
    for item in items:
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if _holds_float(item):
            return True
    return False


def _float_pointer(value: Any, pointer: str) -> str | None:
    if isinstance(value, float):
        return pointer or "/"
    if isinstance(value, Mapping):
        items = ((escape(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for token, item in items:
        found = _float_pointer(item, f"{pointer}/{token}")
        if found is not None:
            return found
    return None
