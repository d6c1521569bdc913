"""The compiled record schema against marshmallow's own load of the same schema.

The compiled load must return exactly what ``Schema.load`` returns (same members, same
order) or decline; a declined record is loaded by marshmallow, so its problems are the
ones it always had. Checked on every record fixture and variant, on generated records
and on many records broken one member at a time.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError, fields, post_load, validate

from bench.records import RecordFactory
from gateway.errors import InvalidRecord
from gateway.jsontext import JsonTextError, loads
from gateway.records import validation
from gateway.records.compiled import Decline, compile_schema
from gateway.records.fields import _DECIMAL_LEXICAL, DecimalString, Enum, Text, Uri
from gateway.records.json_format import parse_json
from gateway.records.schema import RECORD_SCHEMA, StrictSchema

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures" / "records").rglob("*.json"))
COMPILED = compile_schema(RECORD_SCHEMA)

#: Values put in place of a member: each breaks some field, some are valid for others.
HOSTILE: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**60,
    1.5,
    Decimal("1.50"),
    Decimal("NaN"),
    Decimal("-Infinity"),
    Decimal("1E+400"),
    Decimal("-0.0"),
    "",
    " ",
    "x" * 600,
    "x" * 20_000,
    "text\u202ewith an override",
    "zero\u200bwidth",
    "nul\x00",
    "\ud800",
    "2024-02-30",
    "2024-02-29",
    "20240229",
    "2025-02-08T10:12:00Z",
    "12.50",
    "1e3",
    "Ah",
    "°C",
    "96S2P",
    "https://example.com/x",
    "a@example.com",
    "Z9ZCEN80000000E660000001",
    "Z9ZMEN80000000E660000001",
    "Z9ZPEN80000000E660000001",
    "Z9ZCEN8E660000001RC",
    "z9zcen80000000e660000001",
    "production",
    "repair",
    [],
    [None],
    ["Z9ZCEN80000000E660000001"],
    {},
    {"type": "repair", "date": "2025-01-01"},
    {"value": "1", "unit": "V"},
    {"unknown": 1},
)


def _load(data: Any) -> tuple[str, Any]:
    try:
        return "accepted", RECORD_SCHEMA.load(data)
    except ValidationError as e:
        return "refused", e.messages


def _compiled(data: Any) -> tuple[str, Any]:
    try:
        return "accepted", COMPILED(data)
    except Decline:
        return "declined", None


def _assert_agrees(data: Any) -> str:
    """The compiled load agrees with marshmallow on ``data``; returns its outcome."""
    outcome, result = _compiled(copy.deepcopy(data))
    expected, loaded = _load(copy.deepcopy(data))
    if outcome == "accepted":
        assert expected == "accepted", loaded
        assert result == loaded
        # member order is kept too (stored records and hashes see it)
        assert json.dumps(result, ensure_ascii=False) == json.dumps(loaded, ensure_ascii=False)
    return outcome


def _records(path: Path) -> Iterator[Any]:
    try:
        data = loads(path.read_bytes(), decimals=True, schema_checks_numbers=True)
    except JsonTextError:
        return
    yield data
    if isinstance(data, dict):
        for value in data.values():  # fixture files holding records by name
            if isinstance(value, dict) and "model_version" in value:
                yield value


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def _replaced(record: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(record)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def _mutants(record: dict[str, Any], rng: random.Random, count: int) -> Iterator[Any]:
    places = [p for p in _places(record) if p]
    for _ in range(count):
        path = rng.choice(places)
        kind = rng.random()
        if kind < 0.7:
            yield _replaced(record, path, rng.choice(HOSTILE))
            continue
        out = copy.deepcopy(record)
        node = out
        for step in path[:-1]:
            node = node[step]
        if kind < 0.85 and isinstance(node, dict):
            del node[path[-1]]  # a member left out (required or not)
        elif isinstance(node, dict):
            node["not_in_the_model"] = rng.choice(HOSTILE)
        else:
            node.append(rng.choice(HOSTILE))
        yield out


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixtures_load_the_same(path: Path) -> None:
    for data in _records(path):
        outcome = _assert_agrees(data)
        if _load(data)[0] == "accepted":
            assert outcome == "accepted", "a valid fixture must take the fast path"


@pytest.mark.parametrize(("cells", "per_module"), [(96, 12), (7, 3), (300, 96)])
def test_generated_records_load_the_same(cells: int, per_module: int) -> None:
    factory = RecordFactory(cells, cells_per_module=per_module, seed=cells)
    for index in range(20):
        data = parse_json(factory.line(index))
        assert _assert_agrees(data) == "accepted"


@pytest.mark.parametrize("seed", range(6))
def test_broken_records_load_the_same(seed: int) -> None:
    rng = random.Random(seed)
    sources = [d for p in FIXTURES for d in _records(p) if _load(d)[0] == "accepted"]
    sources.append(parse_json(RecordFactory(24, cells_per_module=6, seed=seed).line(seed)))
    declined = 0
    for source in sources:
        for mutant in _mutants(source, rng, 40):
            declined += _assert_agrees(mutant) == "declined"
    assert declined  # the mutants did reach the fallback


def test_a_declined_record_gets_marshmallows_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    source = parse_json((ROOT / "fixtures" / "records" / "ncm-ev-pack.json").read_bytes())
    mutants = list(_mutants(source, rng, 150))

    def problems() -> list[Any]:
        out = []
        for mutant in mutants:
            try:
                validation.validate_record(copy.deepcopy(mutant))
                out.append(None)
            except InvalidRecord as e:
                out.append((e.detail, e.extensions["errors"]))
        return out

    fast = problems()
    # the same records with the compiled path turned off: marshmallow alone
    validation._fast_load.cache_clear()
    monkeypatch.setattr(validation, "compile_schema", lambda schema: _always_decline)
    try:
        slow = problems()
    finally:
        validation._fast_load.cache_clear()
    assert fast == slow
    assert any(p is not None for p in fast)


def _always_decline(data: Any) -> dict[str, Any]:
    raise Decline


@given(
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.from_regex(r"-?[0-9]{0,26}(\.[0-9]{0,22})?", fullmatch=True),
    )
)
def test_canonical_decimal_strings_load_as_the_general_rule_says(text: str) -> None:
    # A string already in canonical form is returned as it is; the general rule
    # (lexical check, Decimal, digit bounds, value bounds, canonical form) must agree.
    for field in (DecimalString(), DecimalString(minimum=0, maximum=100)):
        expected: str | None = None
        if _DECIMAL_LEXICAL.fullmatch(text):
            with contextlib.suppress(ValidationError):
                expected = field._check(Decimal(text))
        got: str | None = None
        with contextlib.suppress(ValidationError):
            got = field._deserialize(text, None, None)
        assert got == expected


class _Shouting(StrictSchema):
    name = Text(required=True)

    @post_load
    def _upper(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"name": data["name"].upper()}


class _Holder(StrictSchema):
    inner = fields.Nested(_Shouting, required=True)
    note = Text()


def test_a_schema_with_hooks_it_does_not_know_is_loaded_by_marshmallow() -> None:
    load = compile_schema(_Holder())
    assert load({"inner": {"name": "cell"}, "note": None}) == {"inner": {"name": "CELL"}}
    with pytest.raises(Decline):
        load({"inner": {"name": ""}})
    with pytest.raises(Decline):
        load({"inner": {"name": "cell"}, "other": 1})


def _as_composed(checks: list[Any], text: Any) -> Any:
    # the field's checks as separate marshmallow steps: text rules, then the validator
    try:
        for check in checks:
            check(text)
    except ValidationError as e:
        return e.messages
    return text


def _as_field(field: Text, text: Any) -> Any:
    try:
        return field._deserialize(text, None, None)
    except ValidationError as e:
        return e.messages


@given(
    st.one_of(
        st.from_regex(
            r"(https?|HTTP|ftp)://[A-Za-z0-9.\-]{0,30}(:[0-9]{0,6})?([/?#][ -~]{0,20})?",
            fullmatch=True,
        ),
        st.text(max_size=40),
    )
)
def test_urls_are_judged_as_marshmallows_url_validator_judges_them(text: str) -> None:
    url = validate.URL(schemes={"https", "http"}, error="is not an absolute http(s) URL")
    text_rules = Text(max_length=2000)
    expected = _as_composed([lambda v: text_rules._deserialize(v, None, None), url], text)
    assert _as_field(Uri(), text) == expected


@given(st.one_of(st.sampled_from(["Ah", "mAh", "°C", "ah", "", "Ah\u200b"]), st.text(max_size=8)))
def test_enums_are_judged_as_one_of_judges_them(text: str) -> None:
    choices = ("Ah", "mAh", "°C", "bad\x00choice")
    one_of = validate.OneOf(choices, error="{input!r} is not one of: Ah, mAh")
    text_rules = Text()
    expected = _as_composed([lambda v: text_rules._deserialize(v, None, None), one_of], text)
    field = Enum(choices, error="{input!r} is not one of: Ah, mAh")
    assert _as_field(field, text) == expected


#: Cell codes the one-pass list check must not take for valid ones: each is refused,
#: and the record then gets marshmallow's problem for it.
CELL_CODES: tuple[Any, ...] = (
    *HOSTILE,
    "Z9ZPEN8000002SE740000319",  # a pack code among cells
    "z9zcen8000002se740000319",  # lower case
    "Z9ZCEN8000002SE74000031",  # 23 characters
    "Z9ZCEN8000002SE7400003199",  # 25 characters
    "Z9ZCEN8000002SE74000031\n",  # a trailing newline ($ would match before it)
    "Z9ZCEN8000002SE7RC",  # an echelon-use form one short
    "Z9ZCEN8000002SE74RC",  # the echelon-use form: accepted
    ["Z9ZCEN8000002SE740000319"],
)


@pytest.mark.parametrize("code", CELL_CODES, ids=repr)
@pytest.mark.parametrize("place", [0, 5, -1])
def test_cell_lists_load_the_same(code: Any, place: int) -> None:
    """A pack's cells are checked in one pass when every code matches; one that does
    not, anywhere in the list, sends the list to the item-by-item check."""
    data = parse_json(RecordFactory(12, cells_per_module=6, seed=3).line(3))
    for module in data["battery"]["modules"]:
        module["cells"][place] = code
        _assert_agrees(data)
    assert _assert_agrees(parse_json(RecordFactory(12, cells_per_module=6, seed=3).line(3))) == (
        "accepted"
    )
