"""Run the record schema and turn its messages into ``InvalidRecord`` problems.

Every problem is reported, each as ``{"pointer": <JSON pointer>, "message": ...}``
(RFC 6901 pointers into the record as sent); an XML reader passes a ``locate`` function
that turns pointers into XPaths and line numbers of its own document. A problem about a
field the cross-border policy withholds names the field and the rule, never the value
(:mod:`gateway.records.redaction`).

A record is first loaded by the schema compiled into plain functions
(:mod:`gateway.records.compiled`), which returns what marshmallow would or declines;
only a declined record (an invalid one, in practice) is loaded by marshmallow, whose
messages make the problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from marshmallow import ValidationError

from gateway import jsonpointer
from gateway.errors import InvalidRecord
from gateway.records import redaction
from gateway.records.compiled import Decline, compile_schema
from gateway.records.platform_fields import PlatformFieldTable
from gateway.records.schema import record_schema

Problem = dict[str, Any]
#: Turns a JSON pointer into the problem members that locate it in the source document.
Locator = Callable[[str], Mapping[str, Any]]

# marshmallow's built-in messages, reworded to say which rule was broken.
_REWORDED = {
    "Missing data for required field.": "required field is missing",
    "Field may not be null.": "must not be null",
    "Not a valid list.": "must be a list",
    "Invalid input type.": "must be an object",
    "Unknown field.": "unknown field (not in the cn-trace/1 record model)",
}
_SCHEMA_KEY = "_schema"


def flatten(messages: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(pointer, message)`` in a marshmallow error structure.

    :param messages: ``ValidationError.messages`` (nested dicts keyed by field name or
        list index, with lists of strings at the leaves).
    :param pointer: pointer of the structure's root.
    """
    if isinstance(messages, dict):
        for key, value in messages.items():
            child = pointer if key == _SCHEMA_KEY else jsonpointer.child(pointer, key)
            yield from flatten(value, child)
    elif isinstance(messages, list | tuple):
        for item in messages:
            yield from flatten(item, pointer)
    else:
        text = str(messages)
        yield pointer or "/", _REWORDED.get(text, text)


def invalid(problems: list[Problem]) -> InvalidRecord:
    """An ``InvalidRecord`` listing ``problems``, its detail naming the first one.

    :param problems: at least one ``{"pointer": ..., "message": ...}``.
    """
    first = problems[0]
    more = len(problems) - 1
    detail = f"{first['pointer']}: {first['message']}"
    if more:
        detail += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InvalidRecord(detail, pointer=first["pointer"], errors=problems)


@cache
def _fast_load(platform_fields: PlatformFieldTable | None) -> Callable[[Any], dict[str, Any]]:
    # One compilation per record schema, and record_schema keeps one schema per table.
    return compile_schema(record_schema(platform_fields))


def validate_record(
    data: Any,
    *,
    locate: Locator | None = None,
    extra: list[Problem] | None = None,
    platform_fields: PlatformFieldTable | None = None,
) -> dict[str, Any]:
    """Validate and normalise a record given as parsed JSON data.

    :param data: the record (a JSON object parsed with exact decimals).
    :param locate: maps a JSON pointer to the members locating it in the source
        document (``pointer`` replaced by an XPath, ``line``); JSON pointers by default.
    :param extra: problems the reader already found, reported with the schema's.
    :param platform_fields: the table ``platform_fields`` is checked against; default:
        the shipped one (:func:`gateway.records.platform_fields.load_platform_fields`).
    :returns: the normalised record: dicts, lists, strings, ints and booleans only.
    :raises InvalidRecord: listing every problem.
    """
    if not extra and isinstance(data, dict):
        # The compiled schema returns what the schema's load returns, or declines; a
        # declined record is loaded again below, so its problems are marshmallow's.
        try:
            return _fast_load(platform_fields)(data)
        except Decline:
            pass
    problems = list(extra or ())
    result: dict[str, Any] | None = None
    if not isinstance(data, dict):
        problems.append({"pointer": "/", "message": "a record must be a JSON object"})
    else:
        try:
            result = record_schema(platform_fields).load(data)
        except ValidationError as e:
            for pointer, message in flatten(e.messages):
                if redaction.is_withheld(redaction.pointer_path(pointer)):
                    message = redaction.redact(message, redaction.value_at(data, pointer))
                problem: Problem = {"pointer": pointer, "message": message}
                if locate is not None:
                    problem.update(locate(pointer))
                problems.append(problem)
    if problems or result is None:
        raise invalid(problems)
    return result
