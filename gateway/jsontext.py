"""Strict reading of JSON text that comes from outside: one parser for every layer.

Every JSON document the gateway reads from a caller (a request body, a record, a
credential, a JWS header or payload, a file handed to ``gateway verify``) goes through
:func:`loads`, which refuses what the standard library would quietly accept:

* a repeated member (RFC 8259 §4 says names SHOULD be unique; Python keeps the last one,
  so a signed value could be shadowed by an unsigned one);
* ``NaN``, ``Infinity`` and numbers that overflow to infinity (RFC 8259 §6);
* number literals longer than :data:`MAX_NUMBER_CHARS` (``int()`` of a long literal costs
  quadratic time);
* nesting deeper than ``max_depth``, so that no ``RecursionError`` can come out of the
  parser or of any later walk over the value.

The standard library parser is used with hooks because only it hands every number and
member over before it is turned into a Python value; the nesting is measured on the text
before it parses. orjson answers first for text it writes back byte for byte (compact
text, such as a JWS payload written by orjson or another compact serializer, or a
record written by one, JSON's whitespace around it aside). Such text repeats no member
(the repeat would be missing from what is written back) and holds no number these rules
refuse (orjson refuses NaN and ``1e400``, and writes an integer beyond 64 bits or a
literal longer than a float's shortest form otherwise), and orjson reads it as the
standard library does: each number with a fraction or exponent was written as orjson
writes its float, so that text is the literal, and a record's exact ``Decimal`` is made
from it. orjson's parser stops at 1,024 levels on its own, and its value is measured
against ``max_depth`` before it is returned (deeper text goes to the standard library
path, which refuses it). Any other text is read by the standard library parser. What
the gateway writes of its own data goes through :func:`dumps`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from gateway import jsonpointer

#: Longest number literal accepted.
MAX_NUMBER_CHARS = 64
#: Default deepest nesting of arrays and objects. A battery record is about 6 deep and a
#: credential about 10; 64 leaves room for any honest document and stays far below
#: Python's recursion limit for every walk that follows.
MAX_DEPTH = 64


class JsonTextError(ValueError):
    """The text is not JSON the gateway accepts.

    :param message: what is wrong, naming the byte, line or member (never a value).
    :param pointer: the JSON pointer of the member at fault, when known.
    """

    def __init__(self, message: str, pointer: str = "/") -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_length(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            f"number literal {text[:20]}... is longer than {MAX_NUMBER_CHARS} characters"
        )


def _parse_int(text: str) -> int:
    _check_length(text)
    return int(text)


def _float_parser(decimals: bool, deferred: bool = False) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        _check_length(text)
        value: float | Decimal = Decimal(text) if decimals else float(text)
        if deferred:
            return value
        if decimals:
            # Decimal keeps 1e999 exactly; anything a float cannot hold is refused the
            # same way in both modes so that a verifier and a store agree on the number.
            if not math.isfinite(float(value)):
                raise _Refused(f"number {text[:20]} is out of range")
        elif not math.isfinite(value):
            raise _Refused(f"number {text[:20]} is out of range")
        return value

    return parse


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (RFC 8259 §6)")


def _non_finite(name: str) -> Decimal:
    return Decimal(name)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"member {key!r} appears twice in one object")
        out[key] = value
    return out


#: Every byte but the quote and the four brackets, which are all a depth is read from.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')


def nesting_depth(text: str | bytes, limit: int) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text``, counting up to ``limit + 1``.

    Works on the UTF-8 bytes, where no byte of a multi-byte character is a quote, a
    backslash or a bracket. Escaped backslashes, then escaped quotes, are dropped
    (``bytes.replace`` pairs backslashes from the left, as a JSON string does), then every
    byte but quotes and brackets (``bytes.translate``), then every two quotes in a row (a
    string without brackets, or the end of one string and the start of the next: each
    bracket left keeps the parity of the quotes before it); splitting what is left at the
    quotes puts the strings' brackets in every other part. With an odd number of quotes
    (an unclosed string, whose part after the text's last quote counts), the text is split
    at every quote instead. These run at C speed over the text (a regular expression over
    every string of a record cost more than parsing it), and the few brackets left are
    counted in one pass without recursion, so it is safe and quick on any input. It does
    not check that the text is JSON; on text that is not, it never says less than the
    depth a parser reaches before it stops (an unclosed string leaves its brackets
    counted).
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if data.count(b"[") + data.count(b"{") <= limit:
        return limit
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = data.translate(None, _NOT_STRUCTURE)
    parts = structure.replace(b'""', b"").split(b'"')
    if len(parts) % 2 == 0:
        # An odd number of quotes: an unclosed string, whose part (after the text's last
        # quote) counts too.
        parts = structure.split(b'"')
        parts.append(parts[-1])
    # Every other part is outside the strings.
    outside = parts[::2]
    depth = deepest = 0
    for byte in b"".join(outside):
        if byte == 0x5B or byte == 0x7B:  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:  # ] }
            depth -= 1
    return deepest


def loads(
    data: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    decimals: bool = False,
    what: str = "the document",
    schema_checks_numbers: bool = False,
) -> Any:
    """Parse JSON text strictly (see the module documentation).

    :param data: UTF-8 bytes (a byte order mark is ignored) or text.
    :param max_depth: deepest nesting of arrays and objects accepted.
    :param decimals: numbers with a fraction or exponent become exact ``Decimal``
        (records); otherwise ``float``.
    :param what: how messages name the document (``the body``, ``the JWS payload``).
    :param schema_checks_numbers: with ``decimals``: ``NaN``, ``Infinity`` and numbers
        beyond a float's range parse as (non-finite or huge) ``Decimal`` instead of being
        refused here, for a schema that refuses each one with its JSON pointer together
        with every other problem (the record reader). Only a schema that does so may ask
        for it.
    :returns: the parsed value.
    :raises JsonTextError: not UTF-8, not JSON, or refused by a rule above.
    """
    if _compact(data):
        value = _written_back(data, max_depth, decimals)
        if value is not _UNDECIDED:
            return value
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise JsonTextError(f"{what}: byte {e.start}: not UTF-8 ({e.reason})") from None
    else:
        text = data
    if nesting_depth(data, max_depth) > max_depth:
        raise JsonTextError(f"{what} nests arrays and objects deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            parse_float=_float_parser(decimals, decimals and schema_checks_numbers),
            parse_int=_parse_int,
            parse_constant=(_non_finite if decimals and schema_checks_numbers else _parse_constant),
            object_pairs_hook=_object,
        )
    except _Refused as e:
        raise JsonTextError(f"{what}: {e.message}") from None
    except json.JSONDecodeError as e:
        raise JsonTextError(
            f"{what}: line {e.lineno}, column {e.colno}: not JSON ({e.msg})"
        ) from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise JsonTextError(f"{what} nests too deeply") from None


#: :func:`_written_back` leaves the text to the standard library parser.
_UNDECIDED = object()


def _compact(data: bytes | bytearray | str) -> bool:
    """Whether ``data`` may be compact text, judged by its first member: its name is
    followed by ``:`` and no space (spaced or indented text is then not parsed twice;
    the answer only saves work, :func:`_written_back` decides)."""
    if isinstance(data, str):
        at = data.find('":')
        return at < 0 or data[at + 2 : at + 3] != " "
    at = data.find(b'":')
    return at < 0 or data[at + 2 : at + 3] != b" "


def _written_back(data: bytes | bytearray | str, max_depth: int, decimals: bool) -> Any:
    """orjson's value of ``data`` when orjson writes that value back as ``data`` byte for
    byte (JSON's whitespace around it aside: a line of NDJSON ends in one) and it nests
    at most ``max_depth`` levels, else :data:`_UNDECIDED` (see the module
    documentation). With ``decimals``, its floats become the ``Decimal`` of their text."""
    try:
        value = orjson.loads(data)
        written = orjson.dumps(value)
        given = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, UnicodeEncodeError):
        return _UNDECIDED
    if written != given.strip(_WHITESPACE):
        return _UNDECIDED
    kind = type(value)
    if kind is dict or kind is list:
        return value if _settled(value, max_depth, decimals) else _UNDECIDED
    return _decimal(value) if decimals and kind is float else value


#: JSON's whitespace (RFC 8259 §2).
_WHITESPACE = b" \t\n\r"


def _decimal(value: float) -> Decimal:
    """The exact decimal of a number orjson read from text it writes back: its text is
    the literal (see :func:`_written_back`)."""
    return Decimal(orjson.dumps(value).decode("ascii"))


def _settled(value: Any, levels: int, decimals: bool) -> bool:
    """Whether an array or object nests at most ``levels`` levels (itself one of them);
    with ``decimals``, the floats in it are made ``Decimal`` on the way. The recursion
    goes no deeper than ``levels``, whatever the value (orjson reads up to 1,024)."""
    if levels <= 0:
        return False
    items: Any = value.items() if type(value) is dict else enumerate(value)
    for key, item in items:
        kind = type(item)
        if kind is dict or kind is list:
            if not _settled(item, levels - 1, decimals):
                return False
        elif kind is float and decimals:
            value[key] = _decimal(item)
    return True


class _Repeated:
    """Stands for an object with a repeated member while :func:`duplicate_pointer` parses."""

    __slots__ = ("path",)

    def __init__(self, path: list[str]) -> None:
        self.path = path


def _repeated_in(value: Any) -> list[str] | None:
    if isinstance(value, _Repeated):
        return value.path
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _repeated_in(item)
            if found is not None:
                return [str(i), *found]
    return None


def _mark_repeated(pairs: list[tuple[str, Any]]) -> Any:
    for key, value in pairs:
        found = _repeated_in(value)
        if found is not None:
            return _Repeated([key, *found])
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Repeated([key])
        seen.add(key)
    return dict(pairs)


def duplicate_pointer(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> str | None:
    """The JSON pointer of the first repeated member in JSON text, if there is one.

    :func:`loads` refuses the text at the repeated member but cannot tell where that
    object sits; this second, slower parse (run only for text already refused) can.

    :param data: the JSON text :func:`loads` refused.
    :param max_depth: as for :func:`loads`; deeper text gives ``None``.
    :returns: e.g. ``/credentialSubject/manufacturerName``, or ``None`` when the text
        has no repeated member or is not JSON.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes | bytearray) else data
    except UnicodeDecodeError:
        return None
    if nesting_depth(data, max_depth) > max_depth:
        return None
    try:
        parsed = json.loads(
            text, object_pairs_hook=_mark_repeated, parse_constant=lambda name: None
        )
    except (ValueError, RecursionError):
        return None
    found = _repeated_in(parsed)
    if found is None:
        return None
    return jsonpointer.join(found)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of data the gateway holds (what it stores, seals or streams).

    orjson's text: the same as ``json``'s compact text for JSON data, several times
    faster; ``json`` writes what orjson refuses (integers beyond 64 bits, keys that are
    not strings).
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
