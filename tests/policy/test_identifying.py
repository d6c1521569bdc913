"""The first line of the identifying-data check: a passport value that holds one of its
record's identifying values is refused, naming the field; one encoding of all the values
decides the usual case, and refuses exactly what writing each value alone refuses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.policy.identifiers import IdentifyingData, check_released

# Texts made of few letters, so that identifying values turn up inside passport values,
# across two of them, and around the separators of their JSON text.
_TEXT = st.text(alphabet='ab, :"张\\', max_size=6)
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-99, 99) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _one_by_one(released: Mapping[str, Any], values: Mapping[str, str]) -> str | None:
    """The term whose own JSON text holds an identifying value first, as the check names
    it (the reference: every value written alone)."""
    for term, value in released.items():
        text = json.dumps(value, ensure_ascii=False)
        if any(found in text for found in values):
            return term
    return None


@settings(max_examples=500)
@given(
    st.dictionaries(st.sampled_from(["name", "model", "events", "site"]), _VALUE, max_size=4),
    st.dictionaries(_TEXT.filter(bool), st.just("vehicle.vin"), min_size=1, max_size=3),
)
def test_refuses_what_writing_each_value_alone_refuses(
    released: dict[str, Any], values: dict[str, str]
) -> None:
    pointers = {term: f"/{term}" for term in released}
    expected = _one_by_one(released, values)
    if expected is None:
        check_released(released, values, pointers)
        return
    with pytest.raises(IdentifyingData) as refused:
        check_released(released, values, pointers)
    assert refused.value.pointer == f"/{expected}"


def test_a_value_across_two_fields_is_not_one_they_hold() -> None:
    # The text of all the values holds '1", "b": "2' (the end of one, the next one's
    # term, the start of it); neither value holds it, so nothing is refused.
    released = {"a": "x1", "b": "2y"}
    assert '1", "b": "2' in json.dumps(released, ensure_ascii=False)
    check_released(released, {'1", "b": "2': "vehicle.vin"}, {})


def test_the_field_that_holds_it_is_named() -> None:
    with pytest.raises(IdentifyingData, match="vehicle.vin") as refused:
        check_released(
            {"model": "M1", "notes": ["ok", "VIN LNBSCTEST00000001"]},
            {"LNBSCTEST00000001": "vehicle.vin"},
            {"model": "/battery/model", "notes": "/events/0/notes"},
        )
    assert refused.value.pointer == "/events/0/notes"
