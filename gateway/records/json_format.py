"""Strict JSON parsing for records: exact decimals, no duplicate members, bounded number
literals and nesting.

The gateway's one strict JSON reader (:mod:`gateway.jsontext`) does the parsing. Records
ask it for exact ``Decimal`` numbers, and for ``NaN``, ``Infinity`` and numbers beyond a
float's range to be handed over rather than refused: the record schema refuses each of
those with its JSON pointer, together with every other problem of the record.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidRecord
from gateway.jsontext import MAX_NUMBER_CHARS, JsonTextError, loads

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "parse_json"]

#: Deepest nesting of arrays and objects in a record (the model itself is about 6 deep).
MAX_DEPTH = 32


def parse_json(data: bytes) -> Any:
    """Parse UTF-8 JSON, numbers with fractions or exponents as exact ``Decimal``.

    :param data: the document (a UTF-8 byte order mark is ignored).
    :returns: the parsed value.
    :raises InvalidRecord: the bytes are not UTF-8 or not JSON, or hold a repeated
        member, an over-long number literal or too deep nesting. (``NaN``, ``Infinity``
        and overflowing numbers parse as decimals, which the record schema refuses.)
    """
    try:
        return loads(
            data, max_depth=MAX_DEPTH, decimals=True, what="the record", schema_checks_numbers=True
        )
    except JsonTextError as e:
        raise InvalidRecord(
            e.message, pointer=e.pointer, errors=[{"pointer": e.pointer, "message": e.message}]
        ) from None
