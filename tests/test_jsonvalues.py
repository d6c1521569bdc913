"""Rules on plain JSON values: the float check that guards every credential, record hash
and audit event finds a float wherever it is, and names where."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.jsonvalues import first_float


class _Measure(float):
    """A float subclass, as a library might hand over."""


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=3),
    st.floats(allow_nan=False),
    st.floats(allow_nan=False).map(_Measure),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=2), inner, max_size=4),
        st.dictionaries(st.text(max_size=2), inner, max_size=4).map(OrderedDict),
    ),
    max_leaves=30,
)


def _pointers(value: Any, pointer: str = "") -> list[str]:
    """Every float's pointer, in document order: the plain reading of the rule."""
    if isinstance(value, float):
        return [pointer or "/"]
    if isinstance(value, dict):
        pairs = [(k.replace("~", "~0").replace("/", "~1"), v) for k, v in value.items()]
    elif isinstance(value, list | tuple):
        pairs = [(str(i), v) for i, v in enumerate(value)]
    else:
        return []
    return [p for token, v in pairs for p in _pointers(v, f"{pointer}/{token}")]


@settings(max_examples=1000, deadline=None)
@given(_VALUES)
def test_the_first_float_is_found_and_named(value: Any) -> None:
    found = _pointers(value)
    assert first_float(value) == (found[0] if found else None)


def test_values_without_floats_pass() -> None:
    value = {"a": [1, "2.5", None, True, {"b": ("x", -3)}], "c": OrderedDict(d=[[]])}
    assert first_float(value) is None
    assert first_float({"a": [{"b": [0, 1.5]}]}, "/data") == "/data/a/0/b/1"
