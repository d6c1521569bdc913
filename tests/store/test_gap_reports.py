"""Stored gap reports: what is specific to the record, joined to shared templates on
read, reading exactly as the draft made them; sealed values compressed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.errors import GatewayError
from gateway.mapping import loader
from gateway.records import read_record
from gateway.services import draft_passport
from gateway.store import Tenants
from gateway.store import gap_reports as stored_form
from gateway.store import tables as t
from gateway.store.db import Database
from gateway.store.encryption import _HEADER, FileKeks, Sealer, row_binding
from gateway.store.gap_reports import TemplateMissing, pack, unpack
from tests.helpers import BASE_URL, RECORDS, issue_keys, make_app

MAPPINGS = [ref for ref in loader.available() if ref.startswith("cn-trace-to-eu-passport@")]


def _reports() -> list[dict]:
    """The gap report of every fixture record under every shipped mapping, as JSON."""
    out = []
    for path in sorted(RECORDS.glob("*.json")):
        record = read_record(path.read_bytes(), "application/json")
        for ref in MAPPINGS:
            try:
                draft = draft_passport(record, mapping=ref, base_url=BASE_URL)
            except GatewayError:
                continue
            out.append(json.loads(json.dumps(draft.gaps)))
    return out


REPORTS = _reports()


def _forget() -> None:
    """Forget what this process knows, so templates are read from the database."""
    stored_form._TEMPLATES.clear()


def _templates(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(t.GapReportTemplate))


def test_every_report_reads_back_as_the_draft_made_it(db: Database) -> None:
    assert len(REPORTS) >= 10
    with db.transaction() as session:
        packed = [json.loads(json.dumps(pack(session, report))) for report in REPORTS]
    _forget()
    with db.reading() as session:
        for report, stored in zip(REPORTS, packed, strict=True):
            assert stored_form.PACKED in stored
            assert unpack(session, stored) == report
            assert len(json.dumps(stored)) * 4 < len(json.dumps(report))


def test_templates_are_written_once(db: Database) -> None:
    report = REPORTS[0]
    with db.transaction() as session:
        first = pack(session, report)
    count = _templates(db)
    assert count >= 1
    with db.transaction() as session:
        again = pack(session, report)
    assert again == first
    assert _templates(db) == count


def test_attributes_packed_before_are_stored_as_if_packed_anew(db: Database) -> None:
    """The stored form of attributes seen recently is remembered by their text: the
    same form as packing them anew, unchanged by what a caller does with one stored
    report, and not given to attributes that differ only in a JSON type."""
    report = REPORTS[0]
    stored_form._PACKED_ATTRIBUTES.clear()
    with db.transaction() as session:
        fresh = pack(session, report)
        remembered = pack(session, json.loads(json.dumps(report)))
        assert remembered == fresh
        for fields in remembered[stored_form.PACKED]["differing"].values():
            fields.clear()
        remembered[stored_form.PACKED]["texts"].clear()
        assert pack(session, report) == fresh
        assert stored_form._PACKED_ATTRIBUTES
        # false and 0 are equal in Python, not in JSON
        typed = json.loads(json.dumps(report))
        typed["attributes"][0]["conflict"] = 0
        stored_typed = pack(session, typed)
    _forget()
    stored_form._PACKED_ATTRIBUTES.clear()
    with db.reading() as session:
        assert unpack(session, stored_typed) == typed
        assert unpack(session, stored_typed)["attributes"][0]["conflict"] is not False


def test_a_template_rolled_back_with_its_savepoint_is_written_again(db: Database) -> None:
    with db.transaction() as session:
        nested = session.begin_nested()
        pack(session, REPORTS[0])
        nested.rollback()
        stored = pack(session, REPORTS[0])
    _forget()
    with db.reading() as session:
        assert unpack(session, stored) == REPORTS[0]


def test_reports_stored_whole_read_as_they_are(db: Database) -> None:
    with db.reading() as session:
        assert unpack(session, REPORTS[0]) is REPORTS[0]
        assert unpack(session, {}) == {}


def _variant(change) -> dict:
    report = json.loads(json.dumps(REPORTS[0]))
    change(report["attributes"])
    return report


#: Reports of another shape than the gap report's, each differing from ``REPORTS[0]`` in
#: one attribute.
OTHER_SHAPES = {
    "an extra field": lambda a: a[0].update(extra=1),
    "an unknown status": lambda a: a[0].update(status="pending"),
    "fields in another order": lambda a: a.__setitem__(0, dict(reversed(a[0].items()))),
    "a reason that is not text": lambda a: a[0].update(reason=None),
    "no deciding row": lambda a: a[0].pop("mapping_row"),
    "an attribute that is a list": lambda a: a.__setitem__(0, list(a[0].values())),
    "an attribute that is text": lambda a: a.__setitem__(0, "filled"),
}


@pytest.mark.parametrize("change", OTHER_SHAPES.values(), ids=OTHER_SHAPES.keys())
def test_a_report_of_another_shape_is_stored_whole(db: Database, change) -> None:
    """Stored as it is, whether or not a report of its statuses was packed before (only
    a plan's first report and the attributes that differ are checked), and without a
    template written for it."""
    odd = _variant(change)
    with db.transaction() as session:
        assert pack(session, odd) is odd  # nothing planned for its shape yet, or planned
        assert pack(session, {"note": "x"}) == {"note": "x"}
    assert _templates(db) == 0
    with db.transaction() as session:
        assert stored_form.PACKED in pack(session, REPORTS[0])  # plans its shape
        assert pack(session, _variant(change)) == _variant(change)
    assert stored_form.PACKED not in pack(None, _variant(change))


def test_a_table_nobody_holds_still_reads_back(db: Database) -> None:
    report = json.loads(json.dumps(REPORTS[0]))
    report["mapping"] = {"set": "private", "version": "9.9.9", "hash": "sha256:" + "0" * 64}
    with db.transaction() as session:
        stored = pack(session, report)
    _forget()
    with db.reading() as session:
        assert unpack(session, stored) == report


def test_a_missing_template_fails_clearly(db: Database) -> None:
    with db.transaction() as session:
        stored = json.loads(json.dumps(pack(session, REPORTS[0])))
    stored[stored_form.PACKED]["template"] = "x" * 43
    _forget()
    with db.reading() as session, pytest.raises(TemplateMissing):
        unpack(session, stored)


def test_a_shared_part_is_not_changed_by_a_reader(db: Database) -> None:
    with db.transaction() as session:
        stored = pack(session, REPORTS[0])
    with db.reading() as session:
        read = unpack(session, stored)
        read["policy"]["withheld"].append("changed")
        read["national"]["data"].clear()
        assert unpack(session, stored) == REPORTS[0]


def test_sealed_values_are_compressed_and_earlier_ones_still_open(
    db: Database, tmp_path: Path
) -> None:
    keks = FileKeks(tmp_path / "kek")
    keks.create()
    sealer = Sealer(keks)
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    where = {"table": "passports", "row_id": "p1"}
    with db.transaction() as session:
        tenant = Tenants(session).create("acme").id
        sealed = sealer.seal(session, record, tenant_id=tenant, **where)
        assert len(sealed) < len(json.dumps(record, separators=(",", ":"))) / 2
        assert sealer.open(session, sealed, tenant_id=tenant, **where) == record
        # A value sealed before compression (version 1: the JSON text itself).
        key = sealer._key(session, int.from_bytes(sealed[1:5], "big"))
        nonce = os.urandom(12)
        header = bytes([1]) + sealed[1:5] + nonce
        plain = json.dumps(record).encode("utf-8")
        earlier = header + key.seal(nonce, plain, header + row_binding("passports", "p1", tenant))
        assert len(header) == _HEADER
        assert sealer.open(session, earlier, tenant_id=tenant, **where) == record


def test_a_downgrade_writes_compact_reports_out_whole(tmp_path: Path, db_url: str) -> None:
    from alembic import command

    from gateway.store.db import alembic_config

    home = tmp_path / "instance"
    app = make_app(home, "" if db_url.startswith("sqlite") else db_url)
    try:
        api = app.test_client()
        keys = issue_keys(app.extensions["gateway.settings"])
        body = (RECORDS / "ncm-ev-pack.json").read_bytes()
        created = api.post(
            "/passports", data=body, content_type="application/json", headers=keys["exporter"]
        )
        assert created.status_code == 201, created.json
        engine = app.extensions["gateway.instance"].db.engine
        with engine.connect() as conn:
            (gaps,) = conn.execute(select(t.Passport.gaps)).one()
            assert stored_form.PACKED in gaps
            command.downgrade(alembic_config(conn), "0014")
            conn.commit()
            (gaps,) = conn.execute(select(t.Passport.gaps)).one()
            assert gaps == created.json["gaps"]
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
    finally:
        app.extensions["gateway.instance"].db.dispose()
