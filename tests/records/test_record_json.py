"""Hostile and malformed JSON input."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import jsontext
from gateway.errors import InvalidRecord, UnsupportedMediaType
from gateway.records import read_record, read_record_file

GOOD = (
    b'{"model_version": "cn-trace/1", "battery": {"code": "Z9ZPEB3SPRS001E9R0000456", '
    b'"category": "ev"}, "manufacturer": {"name": "M"}}'
)


def refused(data: bytes) -> list[dict[str, object]]:
    with pytest.raises(InvalidRecord) as caught:
        read_record(data, "application/json")
    errors = caught.value.extensions["errors"]
    assert isinstance(errors, list) and errors
    return errors


@pytest.mark.parametrize(
    "media_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.cn-trace+json"],
)
def test_media_types(media_type: str) -> None:
    assert read_record(GOOD, media_type)["manufacturer"] == {"name": "M"}


def test_unsupported_media_type() -> None:
    with pytest.raises(UnsupportedMediaType):
        read_record(GOOD, "text/csv")


def test_unsupported_suffix(tmp_path) -> None:
    path = tmp_path / "record.yaml"
    path.write_bytes(GOOD)
    with pytest.raises(UnsupportedMediaType):
        read_record_file(path)


def test_utf8_bom_is_ignored() -> None:
    assert read_record(b"\xef\xbb\xbf" + GOOD, "application/json")


def test_not_utf8() -> None:
    (error,) = refused(GOOD.replace(b'"M"', b'"\xff"'))
    assert "not UTF-8" in error["message"]


def test_not_json() -> None:
    (error,) = refused(b'{"model_version": ')
    assert error["message"].startswith("the record: line 1, column 19: not JSON")


def test_duplicate_member() -> None:
    (error,) = refused(GOOD[:-1] + b', "battery": {}}')
    assert "'battery' appears twice" in error["message"]


def test_long_number_literal() -> None:
    (error,) = refused(GOOD[:-1] + b', "usage": {"cycles": ' + b"9" * 5000 + b"}}")
    assert "longer than" in error["message"]


def test_deep_nesting() -> None:
    (error,) = refused(b"[" * 100_000 + b"]" * 100_000)
    assert error["message"] == "the record nests arrays and objects deeper than 32 levels"
    # Measured on the text before parsing: nothing deeper than the limit is parsed.
    nested = GOOD[:-1] + b', "eu_supplement": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}"
    (error,) = refused(nested)
    assert "deeper than 32 levels" in error["message"]


def _depth(value: object) -> int:
    """The nesting of a parsed value: the reference the text's depth must match."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_nesting_depth_of_the_text_is_the_parsed_depth() -> None:
    # Strings full of quotes, backslashes and brackets, in ASCII and in UTF-8: only the
    # structure counts, whatever the strings hold.
    rnd = random.Random(7)
    alphabet = ["a", '"', "\\", "[", "]", "{", "}", "é", "\n", "🔋", "\\\\"]

    def value(depth: int) -> object:
        kind = rnd.random()
        if depth > 7 or kind < 0.3:
            return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6)))
        if kind < 0.6:
            return [value(depth + 1) for _ in range(rnd.randint(0, 4))]
        return {str(rnd.random()) + rnd.choice(alphabet): value(depth + 1) for _ in range(3)}

    for _ in range(1000):
        parsed = value(0)
        text = json.dumps(parsed, ensure_ascii=rnd.random() < 0.5)
        want = _depth(parsed)
        for limit in (0, 2, 5, 32):
            got = jsontext.nesting_depth(text, limit)
            assert (got > limit) == (want > limit), (text, limit)
            assert jsontext.nesting_depth(text.encode(), limit) == got


def _depth_split_at_every_quote(data: bytes, limit: int) -> int:
    """The depth as the text's own definition gives it: escapes dropped, then split at
    every quote; every other part is outside the strings (an unclosed string's too)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return limit
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    parts = bytes(b for b in data if b in b'"[]{}').split(b'"')
    outside = parts[::2] if len(parts) % 2 else [*parts[::2], parts[-1]]
    depth = deepest = 0
    for byte in b"".join(outside):
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
    return deepest


@settings(max_examples=2000)
@given(
    st.lists(
        st.sampled_from([b'"', b'""', b"\\", b"[", b"]", b"{", b"}", b"a", b":", b"\xc3\xa9"])
    ).map(b"".join),
    st.integers(0, 6),
)
def test_nesting_depth_drops_quote_pairs_as_splitting_at_every_quote_would(
    data: bytes, limit: int
) -> None:
    """Two quotes in a row are dropped before the text is split at its quotes: the
    depth is the one splitting at every quote gives, on any bytes."""
    assert jsontext.nesting_depth(data, limit) == _depth_split_at_every_quote(data, limit)


@pytest.mark.parametrize(
    "text",
    [
        b'["\\\\"' + b"[" * 40,  # an escaped backslash, then the closing quote
        b'["\\"' + b"[" * 40,  # an escaped quote: the string is never closed
        b'["' + b"[" * 40,  # an unclosed string: its brackets still count
        b'[\\"' + b"[" * 40,  # a backslash outside a string: the parser stops there
    ],
)
def test_nesting_depth_never_below_what_a_parser_reaches(text: bytes) -> None:
    assert jsontext.nesting_depth(text, 32) > 32


def test_parsed_by_the_shared_strict_reader_nan_still_reported_by_the_schema() -> None:
    from gateway.records import json_format

    assert json_format.loads is jsontext.loads
    errors = refused(GOOD[:-1] + b', "usage": {"soh": NaN, "soc": -Infinity}}')
    assert {e["pointer"]: e["message"] for e in errors} == {
        "/usage/soh": "must be a finite number (NaN and Infinity are not allowed)",
        "/usage/soc": "must be a finite number (NaN and Infinity are not allowed)",
    }
    # A duplicate member still names the member, never its value.
    (error,) = refused(GOOD[:-1] + b', "battery": {"code": "SECRET-VALUE"}}')
    assert "SECRET-VALUE" not in error["message"]


@pytest.mark.parametrize("data", [b"[]", b'"record"', b"null"])
def test_record_must_be_an_object(data: bytes) -> None:
    assert refused(data) == [{"pointer": "/", "message": "a record must be a JSON object"}]


def test_pointer_tokens_are_escaped() -> None:
    errors = refused(GOOD[:-1] + b', "a/b~c": 1}')
    assert errors[0]["pointer"] == "/a~1b~0c"
