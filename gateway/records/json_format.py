"""Strict JSON parsing for records: exact decimals, no NaN, no duplicate members.

The standard library parser is used with hooks rather than a faster one (orjson) because
only it can hand every number over as its exact text: orjson turns ``350.4`` into a
binary float before anyone can look at it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from gateway.errors import InvalidRecord

#: Longest number literal accepted; longer ones are refused before conversion, because
#: converting a long integer literal costs quadratic time.
MAX_NUMBER_CHARS = 64


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"number literal {text[:20]}... is longer than {MAX_NUMBER_CHARS} characters"
        )
    return int(text)


def _parse_float(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"number literal {text[:20]}... is longer than {MAX_NUMBER_CHARS} characters"
        )
    return Decimal(text)


def _parse_constant(name: str) -> Decimal:
    # RFC 8259 §6: NaN and Infinity are not JSON numbers, but Python reads them. They
    # become non-finite decimals here so that the record schema refuses each one with
    # its pointer, together with every other problem.
    return Decimal(name)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 §4: names SHOULD be unique; a repeated member is ambiguous, so refuse it.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"member {key!r} appears twice in one object")
        out[key] = value
    return out


def parse_json(data: bytes) -> Any:
    """Parse UTF-8 JSON, numbers with fractions or exponents as exact ``Decimal``.

    :param data: the document (a UTF-8 byte order mark is ignored).
    :returns: the parsed value.
    :raises InvalidRecord: the bytes are not UTF-8 or not JSON, or hold a repeated
        member, an over-long number literal or too deep nesting. (``NaN`` and
        ``Infinity`` parse as non-finite decimals, which the record schema refuses.)
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _problem(f"byte {e.start}: not UTF-8 ({e.reason})") from None
    try:
        return json.loads(
            text,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_parse_constant,
            object_pairs_hook=_object,
        )
    except _Refused as e:
        raise _problem(e.message) from None
    except json.JSONDecodeError as e:
        raise _problem(f"line {e.lineno}, column {e.colno}: not JSON ({e.msg})") from None
    except RecursionError:
        raise _problem("nesting is too deep") from None


def _problem(message: str) -> InvalidRecord:
    return InvalidRecord(message, pointer="/", errors=[{"pointer": "/", "message": message}])
