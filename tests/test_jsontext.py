"""The strict JSON reader answers compact text through orjson only when that gives what
the standard library parser with the gateway's rules gives: the same value, or the same
refusal."""

from __future__ import annotations

import json
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


def _strict(data: bytes, *, decimals: bool = False) -> Any:
    """What the standard library parser with the gateway's hooks gives."""
    original = jsontext._written_back
    try:
        jsontext._written_back = lambda data: jsontext._UNDECIDED
        return _outcome(data, decimals=decimals)
    finally:
        jsontext._written_back = original


def _outcome(data: bytes, *, decimals: bool = False) -> Any:
    try:
        value = jsontext.loads(data, what="the body", decimals=decimals)
    except jsontext.JsonTextError as refused:
        return ("refused", refused.message)
    # Types too: True is not 1, 1.0 is not 1.
    return ("value", json.dumps(value), repr(value))


@given(_JSON)
def test_compact_text_reads_as_the_strict_parser_reads_it(value: Any) -> None:
    try:
        data = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits: the standard library writes it
        data = json.dumps(value, separators=(",", ":")).encode()
    assert _outcome(data) == _strict(data)


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
    assert jsontext._written_back(data) is jsontext._UNDECIDED
    assert _outcome(data) == _strict(data)


def test_a_repeated_member_is_refused_by_name() -> None:
    assert _outcome(b'{"a":1,"a":2}') == (
        "refused",
        "the body: member 'a' appears twice in one object",
    )


def test_records_keep_their_decimals() -> None:
    """A record's numbers are exact decimals: never read by orjson."""
    data = b'{"a":1.5}'
    assert jsontext._written_back(data) == {"a": 1.5}
    assert repr(jsontext.loads(data, decimals=True)["a"]) == "Decimal('1.5')"


@pytest.mark.parametrize("data", [b'{"a": 1}', b'{\n  "a": 1\n}', '{"a": 1}'], ids=repr)
def test_spaced_text_is_read_once(data: bytes | str, monkeypatch) -> None:
    monkeypatch.setattr(jsontext, "_written_back", lambda data: pytest.fail("parsed twice"))
    assert jsontext.loads(data) == {"a": 1}
