"""What the store remembers or encodes faster gives the same stored form as the plain
way: gap report templates remembered by their fields, and canonical JSON for the audit
chain written by orjson."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gateway.errors import InvalidInput
from gateway.mapping import loader
from gateway.records import read_record
from gateway.services import draft_passport
from gateway.settings import Settings
from gateway.store import gap_reports as stored_form
from gateway.store.audit import canonical_bytes
from gateway.store.db import Database, init_db
from gateway.store.gap_reports import pack, unpack
from tests.helpers import BASE_URL, RECORDS


def _report() -> dict:
    """A fixture record's gap report, as JSON."""
    path = sorted(RECORDS.glob("*.json"))[0]
    mapping = max(r for r in loader.available() if r.startswith("cn-trace-to-eu-passport@"))
    record = read_record(path.read_bytes(), "application/json")
    draft = draft_passport(record, mapping=mapping, base_url=BASE_URL)
    return json.loads(json.dumps(draft.gaps))


def _as_text(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def test_a_report_equal_in_value_but_not_in_type_reads_back_as_it_was(db: Database) -> None:
    report = _report()
    other = copy.deepcopy(report)
    flags = [a for a in other["attributes"] if type(a["mandatory"]) is bool]
    assert flags
    # 1 for true: equal to what the remembered template holds, another JSON value.
    flags[0]["mandatory"] = int(flags[0]["mandatory"])
    with db.transaction() as session:
        pack(session, report)
        stored = json.loads(json.dumps(pack(session, other)))
    stored_form._TEMPLATES.clear()
    with db.reading() as session:
        assert _as_text(unpack(session, stored)) == _as_text(other)


def test_a_remembered_template_is_written_to_another_database(db: Database, tmp_path: Path) -> None:
    report = _report()
    with db.transaction() as session:
        first = json.loads(json.dumps(pack(session, report)))
    home = tmp_path / "other"
    other = init_db(Settings(home=home, database_url=f"sqlite:///{home / 'gateway.sqlite'}"))
    with other.transaction() as session:
        again = json.loads(json.dumps(pack(session, report)))
    assert again == first
    stored_form._TEMPLATES.clear()
    try:
        with other.reading() as session:
            assert _as_text(unpack(session, again)) == _as_text(report)
    finally:
        other.dispose()


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [True, None, 'é中\u2028\x7f\x00\n"\\'], "A": {}},
        {"big": 2**64, "negative": -(2**63) - 1, "safe": 2**53 - 1},
        {"\U0001f600": "x", "z": "\ud7ff\ue000", "": ""},
        [[], {}, "", 0, False],
    ],
)
def test_canonical_bytes_are_the_json_modules_text(value: object) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(value) == expected.encode("utf-8")


@pytest.mark.parametrize(
    "value", [{"a": 1.5}, {1: "a", "b": 2}, {"a": {1, 2}}, {"a": b"x"}, {"a": "\ud800"}]
)
def test_canonical_bytes_refuse_what_no_hash_can_read(value: object) -> None:
    with pytest.raises(InvalidInput):
        canonical_bytes(value)


def test_a_deciding_row_of_another_type_reads_back_as_it_was(db: Database) -> None:
    other = _report()
    other["attributes"][0]["mapping_row"] = [1]
    with db.transaction() as session:
        stored = json.loads(json.dumps(pack(session, other)))
    stored_form._TEMPLATES.clear()
    with db.reading() as session:
        assert _as_text(unpack(session, stored)) == _as_text(other)


def test_an_attribute_differing_alike_under_two_categories_reads_back_under_each(
    db: Database,
) -> None:
    # What differs in an attribute is remembered by its text and the report's category:
    # the same text differs from the template in other fields under another category.
    reports = []
    for category in ("EV", "LMT"):
        report = _report()
        report["category"] = category
        attribute = report["attributes"][0]
        attribute.update(
            status="not_applicable",
            reason="does not apply to EV batteries",
            origin=None,
            measured_at="2024-01-01",
        )
        reports.append(report)
    with db.transaction() as session:
        stored = [json.loads(json.dumps(pack(session, r))) for r in reports]
    assert [s["gaps-packed/1"]["differing"]["0"] for s in stored] == [
        {"measured_at": "2024-01-01"},
        {"measured_at": "2024-01-01"},
    ]
    assert [s["attributes"].split(",")[0] for s in stored] != [
        stored[0]["attributes"].split(",")[0]
    ] * 2
    stored_form._TEMPLATES.clear()
    with db.reading() as session:
        assert [_as_text(unpack(session, s)) for s in stored] == [_as_text(r) for r in reports]


def test_reports_packed_again_read_back_the_same(db: Database) -> None:
    # The second time a report's differing attributes come from what was remembered.
    report = _report()
    report["attributes"][0]["measured_at"] = "2024-01-01"
    with db.transaction() as session:
        first, second = (json.loads(json.dumps(pack(session, report))) for _ in range(2))
    assert first == second
    stored_form._TEMPLATES.clear()
    with db.reading() as session:
        assert _as_text(unpack(session, second)) == _as_text(report)
