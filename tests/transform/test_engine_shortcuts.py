"""The engine's shortcuts (an attribute none of whose rows reads a value answered by
the result worked out with its plan; a single national row that fills it answered
without searching the rest) give exactly what trying every row gives."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import MappingProxyType

import pytest

from gateway.mapping import loader
from gateway.policy.table import apply_policy, load_policy, shipped_policies
from gateway.records import read_record
from gateway.records.reader import read_record_file
from gateway.services.conversion import decode_code
from gateway.transform import engine
from gateway.transform.engine import compiled, convert
from gateway.transform.paths import resolve
from gateway.vocab.catalog import load_catalog
from tests.helpers import BASE_URL, RECORDS, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from records import RecordFactory  # noqa: E402

VARIANTS = RECORDS / "variants"
FIXTURES = sorted(
    p
    for folder in (RECORDS, VARIANTS)
    for p in folder.iterdir()
    if p.suffix == ".json" and not p.name.endswith(".expected.json")
)
TABLES = ("cn-trace-to-eu-passport@1.0.0", "cn-trace-to-eu-passport@1.1.0")


def _records() -> list[tuple[str, Mapping]]:
    found: list[tuple[str, Mapping]] = []
    for path in FIXTURES:
        try:
            found.append((path.name, read_record_file(path)))
        except Exception:  # a variant refused at the door
            continue
    factory = RecordFactory(cells=4)
    found += [(f"generated-{i}", read_record(factory.line(i), "application/json")) for i in (1, 2)]
    return found


def _every_row(record, table, withheld, catalog):
    """The results of trying every row of every attribute, without any shortcut."""
    context = engine.transforms.Context(
        record=MappingProxyType(record), base_url=BASE_URL, decode_code=decode_code
    )
    return tuple(
        plan.fixed or engine._resolve_attribute(plan, context, withheld)
        for plan in compiled(table, catalog, record["battery"]["category"])
    )


@pytest.mark.parametrize("policy", shipped_policies())
@pytest.mark.parametrize("table_ref", TABLES)
def test_shortcuts_give_what_every_row_gives(table_ref: str, policy: str) -> None:
    table = loader.load(table_ref)
    catalog = load_catalog()
    for name, record in _records():
        exportable, decision = apply_policy(record, load_policy(policy))
        got = convert(
            exportable,
            table,
            catalog,
            base_url=BASE_URL,
            decode_code=decode_code,
            withheld=decision.withheld_paths,
        )
        assert got.results == _every_row(exportable, table, decision.withheld_paths, catalog), name


def test_the_result_of_no_row_reading_names_every_absent_field() -> None:
    table = loader.load(TABLES[-1])
    for plan in compiled(table, load_catalog(), "ev"):
        if plan.empty is None or not plan.national:
            continue
        assert plan.empty.status in ("missing_data", "unmappable")
        for row in plan.national:
            assert resolve({}, row.path) == []
            if plan.empty.status == "missing_data":
                assert row.looked_for in plan.empty.reason


def test_a_result_has_every_field_its_dataclass_declares() -> None:
    import dataclasses

    table = loader.load(TABLES[-1])
    record = read_record_file(FIXTURES[0])
    results = convert(
        record, table, load_catalog(), base_url=BASE_URL, decode_code=decode_code
    ).results
    names = [f.name for f in dataclasses.fields(engine.AttributeResult)]
    for result in results:
        assert list(vars(result)) == names
        assert dataclasses.replace(result) == result
