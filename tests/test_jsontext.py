"""The strict JSON reader answers compact text through orjson only when that gives what
the standard library parser with the gateway's rules gives: the same value, or the same
refusal."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import jsontext

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


def _strict(data: bytes, *, decimals: bool = False, max_depth: int = jsontext.MAX_DEPTH) -> Any:
    """What the standard library parser with the gateway's hooks gives."""
    original = jsontext._written_back
    try:
        jsontext._written_back = lambda *args: jsontext._UNDECIDED
        return _outcome(data, decimals=decimals, max_depth=max_depth)
    finally:
        jsontext._written_back = original


def _outcome(data: bytes, *, decimals: bool = False, max_depth: int = jsontext.MAX_DEPTH) -> Any:
    try:
        value = jsontext.loads(data, what="the body", decimals=decimals, max_depth=max_depth)
    except jsontext.JsonTextError as refused:
        return ("refused", refused.message)
    # Types too: True is not 1, 1.0 is not 1, Decimal('1.50') is not Decimal('1.5').
    return ("value", json.dumps(value, default=repr), repr(value))


@given(
    _JSON,
    st.booleans(),
    st.integers(min_value=0, max_value=4),
    st.sampled_from([b"", b"\n", b"\r\n", b" "]),
)
def test_compact_text_reads_as_the_strict_parser_reads_it(
    value: Any, decimals: bool, max_depth: int, end: bytes
) -> None:
    """The same value or refusal, with a record's decimals or without, at any nesting
    limit, as a line of NDJSON or not."""
    try:
        data = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits: the standard library writes it
        data = json.dumps(value, separators=(",", ":")).encode()
    data += end
    assert _outcome(data, decimals=decimals, max_depth=max_depth) == _strict(
        data, decimals=decimals, max_depth=max_depth
    )


COMPACT_BUT_NOT_WRITTEN_BACK = [
    b'{"a":1,"a":2}',  # a repeated member
    b'{"a":{"b":1,"b":1}}',
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":1e400}',
    b'{"a":-1e400}',
    b'{"a":123456789012345678901234567890}',  # beyond 64 bits
    b'{"a":1' + b"0" * 70 + b"}",  # a literal longer than MAX_NUMBER_CHARS
    b'{"a":0.' + b"0" * 70 + b"1}",
    b'{"a":1E5}',
    b'{"a":-0}',
    b'{"a":"\\u00e9"}',  # an escape orjson does not write
    b'{"a":"\\/"}',
    b'{"a":"\\ud800"}',  # a lone surrogate
    b'\xef\xbb\xbf{"a":1}',  # a byte order mark
    b'{"a":"\xff"}',  # not UTF-8
    b'{"a":1}x',
    b"[1,2,]",
    b'"\x01"',
]


@pytest.mark.parametrize("data", COMPACT_BUT_NOT_WRITTEN_BACK, ids=repr)
def test_compact_text_orjson_does_not_write_back_is_left_to_the_strict_parser(
    data: bytes,
) -> None:
    for decimals in (False, True):
        assert jsontext._written_back(data, jsontext.MAX_DEPTH, decimals) is jsontext._UNDECIDED
        assert _outcome(data, decimals=decimals) == _strict(data, decimals=decimals)


def test_a_repeated_member_is_refused_by_name() -> None:
    assert _outcome(b'{"a":1,"a":2}') == (
        "refused",
        "the body: member 'a' appears twice in one object",
    )


def test_records_keep_their_decimals() -> None:
    """A record's numbers are exact decimals: orjson answers only for text whose every
    number is written as orjson writes its float, and the decimal is made from that text."""
    data = b'{"a":[1.5,{"b":1e+16}],"c":-0.0}\n'
    assert jsontext._written_back(data, jsontext.MAX_DEPTH, True) == {
        "a": [Decimal("1.5"), {"b": Decimal("1e+16")}],
        "c": Decimal("-0.0"),
    }
    assert repr(jsontext.loads(data, decimals=True)["a"][0]) == "Decimal('1.5')"
    # Digits orjson does not write (a trailing zero) are the standard library's to read.
    assert jsontext._written_back(b'{"a":1.50}', jsontext.MAX_DEPTH, True) is jsontext._UNDECIDED
    assert repr(jsontext.loads(b'{"a":1.50}', decimals=True)["a"]) == "Decimal('1.50')"


def test_compact_text_too_deep_is_refused_as_the_strict_parser_refuses_it() -> None:
    """orjson reads 1,024 levels; the limit the caller sets is the one that holds, and
    the walk that measures it goes no deeper than that limit."""
    for depth in (3, 4, 1_000, 1_024):
        data = b"[" * depth + b"]" * depth
        assert _outcome(data, max_depth=3) == _strict(data, max_depth=3)
    assert _outcome(b"[[[]]]", max_depth=3) == ("value", "[[[]]]", "[[[]]]")
    assert _outcome(b"[[[[]]]]", max_depth=3) == (
        "refused",
        "the body nests arrays and objects deeper than 3 levels",
    )


@pytest.mark.parametrize("data", [b'{"a": 1}', b'{\n  "a": 1\n}', '{"a": 1}'], ids=repr)
def test_spaced_text_is_read_once(data: bytes | str, monkeypatch) -> None:
    monkeypatch.setattr(jsontext, "_written_back", lambda *args: pytest.fail("parsed twice"))
    assert jsontext.loads(data) == {"a": 1}
