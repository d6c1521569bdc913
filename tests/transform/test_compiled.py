"""A mapping table compiled once per table, catalog and category gives the results the
table's rows give, and the data policy opens only what it classifies apart."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from gateway.errors import TransformError
from gateway.mapping import loader
from gateway.mapping.model import MappingSet
from gateway.policy.table import apply_policy, load_policy, shipped_policies
from gateway.records.reader import read_record_file
from gateway.services.conversion import decode_code
from gateway.transform import engine
from gateway.transform.engine import compiled, convert
from gateway.vocab.catalog import load_catalog
from tests.helpers import BASE_URL, RECORDS

FIXTURES = sorted(p for p in RECORDS.iterdir() if p.suffix == ".json")


def test_a_table_is_compiled_once_per_category() -> None:
    table = loader.load("cn-trace-to-eu-passport@1.1.0")
    catalog = load_catalog()
    plans = compiled(table, catalog, "ev")
    assert compiled(table, catalog, "ev") is plans
    assert compiled(table, catalog, "lmt") is not plans
    assert [p.attribute for p in plans] == list(catalog.attributes)
    for plan in plans:
        rows = table.rows_for(plan.attribute.term)
        assert [r.row for r in plan.national + plan.supplement] == [
            r for r in rows if r.source_path is not None
        ]


def test_the_compiled_tables_kept_are_bounded() -> None:
    table = loader.load("cn-trace-to-eu-passport@1.1.0")
    catalog = load_catalog()
    for n in range(engine._PLANS_KEPT + 5):
        # Tables differing in one comment: each its own hash.
        rows = list(table.rows)
        rows[0] = dataclasses.replace(rows[0], comment=f"variant {n}")
        compiled(dataclasses.replace(table, rows=tuple(rows)), catalog, "ev")
    assert len(engine._PLANS) <= engine._PLANS_KEPT


def test_a_row_naming_an_unknown_transform_fails_when_it_reads_a_value() -> None:
    table = loader.load("cn-trace-to-eu-passport@1.1.0")
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    exportable, decision = apply_policy(record, load_policy())
    found = next(r for r in table.rows if r.source_path == "battery.model")
    rows = tuple(
        dataclasses.replace(r, transform="no_such_transform") if r is found else r
        for r in table.rows
    )
    broken = MappingSet(table.set_id, table.version, rows, table.metadata)
    with pytest.raises(TransformError) as caught:
        convert(
            exportable,
            broken,
            load_catalog(),
            base_url=BASE_URL,
            decode_code=decode_code,
            withheld=decision.withheld_paths,
        )
    assert f"mapping row {found.number} (no_such_transform)" in caught.value.detail


@pytest.mark.parametrize("ref", shipped_policies())
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_the_policy_never_changes_its_input(path, ref) -> None:
    record = read_record_file(path)
    before = copy.deepcopy(record)
    kept, _ = apply_policy(record, load_policy(ref))
    assert record == before
    kept, _ = apply_policy(record, load_policy(ref).stricter({"battery": "withhold"}, name="t"))
    assert record == before and "battery" not in kept
