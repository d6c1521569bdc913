"""Passports stored many at a time: what one save stores, in one transaction, with one
audit event each on an unbroken chain; nothing of the chunk when one clashes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.errors import Conflict
from gateway.store import AuditLog, Passports, Tenants
from gateway.store.db import Database
from gateway.store.passports import NewCredential, NewIssue, NewPassport, record_hash
from gateway.store.tables import AuditEvent, Credential, Passport

BASE = "https://gw.example/passports/"
CODE = "031PBCDE0A2B3C4D5E6F7G8H"


@pytest.fixture
def tenant(db: Database) -> int:
    with db.transaction() as s:
        return Tenants(s).create("acme").id


def issue(tenant_id: int, n: int, **overrides: object) -> NewIssue:
    code = f"{CODE[:-2]}{n:02d}"
    values: dict[str, object] = {
        "id": f"{BASE}{code}",
        "battery_code": code,
        "tenant_id": tenant_id,
        "category": "ev",
        "mapping_set": "cn-trace-to-eu-passport",
        "mapping_version": "1.0.0",
        "mapping_hash": "sha256-abc",
        "record": {"battery": {"code": code}, "production": {"batch": "B1"}},
        "gaps": {"filled": 10, "missing_data": 2},
    }
    values.update(overrides)
    passport = NewPassport(**values)  # type: ignore[arg-type]
    credentials = [
        NewCredential(id=f"{passport.id}#{g}", access_group=g, format="jwt", body=f"jws.{g}.{n}")
        for g in ("annex-xiii-1", "annex-xiii-2")
    ]
    return NewIssue(passport, credentials, {"withheld": ["vehicle"]})


def counts(db: Database) -> tuple[int, int, int]:
    with db.reading() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t))
            for t in (Passport, Credential, AuditEvent)
        )


def test_many_read_back_as_one_save_stores_them(db: Database, tenant: int) -> None:
    with db.transaction() as s:
        Passports(s).save(issue(tenant, 1).passport, issue(tenant, 1).credentials, "a")
    chunk = [issue(tenant, n, idempotency_key=f"k{n}") for n in range(2, 6)]
    with db.transaction() as s:
        results = Passports(s).save_many(chunk, actor="tenant:acme")
    assert [r.passport.id for r in results] == [i.passport.id for i in chunk]
    with db.reading() as s:
        passports = Passports(s)
        for result, new in zip(results, chunk, strict=True):
            stored = passports.get(new.passport.id)
            assert stored == result.passport
            assert stored.record == new.passport.record
            assert stored.record_sha256 == record_hash(new.passport.record)
            assert [c.body for c in passports.credentials(stored.id)] == [
                c.body for c in new.credentials
            ]
        assert set(passports.by_idempotency_keys(tenant, ["k2", "k5", "k9"])) == {"k2", "k5"}
        assert passports.existing([chunk[0].passport.id, f"{BASE}none"]) == {chunk[0].passport.id}
        log = AuditLog(s)
        assert log.verify() is None
        events = [e for e in log.entries() if e.action.startswith("passport.")]
        chain = log.entries()
        # Restricted sections and the record are sealed; the public one is not.
        rows = {r.access_group: r for r in s.scalars(select(Credential))}
        record_rows = list(s.scalars(select(Passport)))
    assert rows["annex-xiii-2"].body is None and rows["annex-xiii-2"].body_sealed
    assert rows["annex-xiii-1"].body and rows["annex-xiii-1"].body_sealed is None
    assert all(r.record is None and r.record_sealed for r in record_rows)
    assert [e.action for e in events] == ["passport.issued"] * 5
    assert events[-1].data["disclosure"] == {"withheld": ["vehicle"]}
    assert events[-1].data["credentials"] == [c.id for c in chunk[-1].credentials]
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]


def test_a_clash_stores_nothing_of_the_chunk(db: Database, tenant: int) -> None:
    with db.transaction() as s:
        Passports(s).save_many([issue(tenant, 1)], actor="a")
    before = counts(db)
    with pytest.raises(Conflict), db.transaction() as s:
        Passports(s).save_many([issue(tenant, 2), issue(tenant, 1)], actor="a")
    assert counts(db) == before


def test_a_predecessor_is_superseded_in_the_same_unit_of_work(db: Database, tenant: int) -> None:
    first = issue(tenant, 1)
    with db.transaction() as s:
        Passports(s).save_many([first], actor="a")
    with db.transaction() as s:
        Passports(s).save_many([issue(tenant, 2, predecessor_id=first.passport.id)], actor="a")
    with db.reading() as s:
        assert Passports(s).get(first.passport.id).status == "superseded"
        assert AuditLog(s).verify() is None
