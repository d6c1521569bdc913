"""Passports: one transaction per save, idempotency, tenant isolation, status changes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.store import AuditLog, Passports, StatusLists, Tenants
from gateway.store.db import Database
from gateway.store.passports import NewCredential, NewPassport, record_hash, status_bit
from gateway.store.tables import AuditEvent, Credential, Passport

BASE = "https://gw.example/passports/"
CODE = "031PBCDE0A2B3C4D5E6F7G8H"


@pytest.fixture
def tenants(db: Database) -> dict[str, int]:
    with db.transaction() as s:
        return {name: Tenants(s).create(name).id for name in ("acme", "rival")}


def make_passport(tenant_id: int, n: int = 1, **overrides: object) -> NewPassport:
    values: dict[str, object] = {
        "id": f"{BASE}{CODE[:-2]}{n:02d}",
        "battery_code": f"{CODE[:-2]}{n:02d}",
        "tenant_id": tenant_id,
        "category": "ev",
        "mapping_set": "cn-trace-to-eu-passport",
        "mapping_version": "1.0.0",
        "mapping_hash": "sha256-abc",
        "record": {"battery_code": f"{CODE[:-2]}{n:02d}", "capacity_kwh": "75.5"},
        "gaps": {"filled": 10, "missing_data": 2},
    }
    values.update(overrides)
    return NewPassport(**values)  # type: ignore[arg-type]


def make_credentials(passport_id: str, groups=("public", "legitimate_interest")):
    return [
        NewCredential(id=f"{passport_id}#{g}", access_group=g, format="jwt", body=f"jws.{g}")
        for g in groups
    ]


def counts(db: Database) -> tuple[int, int, int]:
    with db.reading() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t))
            for t in (Passport, Credential, AuditEvent)
        )


def test_save_and_read(db: Database, tenants: dict[str, int]) -> None:
    p = make_passport(tenants["acme"])
    with db.transaction() as s:
        result = Passports(s).save(p, make_credentials(p.id), actor="tenant:acme")
    assert result.created
    assert result.passport.status == "active"
    assert result.passport.record_sha256 == record_hash(p.record)
    with db.reading() as s:
        stored = Passports(s).get(p.id)
        assert stored == result.passport
        assert stored.record == p.record and stored.gaps == p.gaps
        creds = Passports(s).credentials(p.id)
        assert [c.access_group for c in creds] == ["legitimate_interest", "public"]
        assert [c.body for c in Passports(s).credentials(p.id, {"public"})] == ["jws.public"]
        [event] = AuditLog(s).entries(subject=p.id)
    assert event.action == "passport.issued"
    assert event.data["credentials"] == [c.id for c in make_credentials(p.id)]


def test_failure_mid_save_stores_nothing(db: Database, tenants: dict[str, int]) -> None:
    """The second credential clashes with the first: the passport goes too."""
    p = make_passport(tenants["acme"])
    creds = make_credentials(p.id, ["public"])
    clash = NewCredential(id=p.id + "#again", access_group="public", format="jwt", body="x")
    before = counts(db)
    with pytest.raises(Conflict), db.transaction() as s:
        Passports(s).save(p, [*creds, clash], actor="tenant:acme")
    assert counts(db) == before


def test_failure_after_save_stores_nothing(
    db: Database, tenants: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit append fails after passport and credentials were written."""

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    p = make_passport(tenants["acme"])
    before = counts(db)
    monkeypatch.setattr(AuditLog, "append", broken)
    with pytest.raises(OSError), db.transaction() as s:
        Passports(s).save(p, make_credentials(p.id), actor="tenant:acme")
    monkeypatch.undo()
    assert counts(db) == before
    with db.reading() as s, pytest.raises(NotFound):
        Passports(s).get(p.id)


def test_bad_credential_refused_before_writing(db: Database, tenants: dict[str, int]) -> None:
    p = make_passport(tenants["acme"])
    bad = NewCredential(id="x", access_group="secret", format="jwt", body="x")
    with pytest.raises(InvalidInput) as err, db.transaction() as s:
        Passports(s).save(p, [*make_credentials(p.id), bad], actor="a")
    assert err.value.pointer == "/credentials/2/access_group"
    assert counts(db) == (0, 0, 2)  # the two tenant.created events


def test_idempotency(db: Database, tenants: dict[str, int]) -> None:
    p = make_passport(tenants["acme"], idempotency_key="req-1")
    with db.transaction() as s:
        first = Passports(s).save(p, make_credentials(p.id), actor="a")
    before = counts(db)
    with db.transaction() as s:
        again = Passports(s).save(p, make_credentials(p.id), actor="a")
    assert not again.created
    assert again.passport == first.passport
    assert {c.id for c in again.credentials} == {c.id for c in first.credentials}
    assert counts(db) == before
    # Same key, different record: refused rather than silently answered.
    other = make_passport(tenants["acme"], 2, idempotency_key="req-1")
    with pytest.raises(Conflict, match="idempotency key"), db.transaction() as s:
        Passports(s).save(other, [], actor="a")
    # Keys are per tenant: the rival may use the same key.
    mine = make_passport(tenants["rival"], 3, idempotency_key="req-1")
    with db.transaction() as s:
        assert Passports(s).save(mine, [], actor="b").created


def test_same_id_twice(db: Database, tenants: dict[str, int]) -> None:
    p = make_passport(tenants["acme"])
    with db.transaction() as s:
        Passports(s).save(p, [], actor="a")
    with pytest.raises(Conflict, match="already exists"), db.transaction() as s:
        Passports(s).save(make_passport(tenants["rival"]), [], actor="b")


def test_tenant_isolation(db: Database, tenants: dict[str, int]) -> None:
    acme, rival = tenants["acme"], tenants["rival"]
    with db.transaction() as s:
        for n in range(1, 4):
            Passports(s).save(make_passport(acme, n), [], actor="a")
        Passports(s).save(make_passport(rival, 9), [], actor="b")
    mine_id = make_passport(acme, 1).id
    with db.reading() as s:
        repo = Passports(s)
        assert [p.tenant_id for p in repo.listing(acme)] == [acme] * 3
        assert [p.tenant_id for p in repo.listing(rival)] == [rival]
        assert len(repo.listing(None)) == 4
        assert repo.get(mine_id, tenant_id=acme).id == mine_id
        with pytest.raises(NotFound):
            repo.get(mine_id, tenant_id=rival)
    with pytest.raises(NotFound), db.transaction() as s:
        Passports(s).set_status(mine_id, "revoked", "b", tenant_id=rival)
    with db.reading() as s:
        assert Passports(s).get(mine_id).status == "active"


def test_list_paging_and_filters(db: Database, tenants: dict[str, int]) -> None:
    acme = tenants["acme"]
    with db.transaction() as s:
        for n in range(1, 6):
            Passports(s).save(make_passport(acme, n), [], actor="a")
        Passports(s).set_status(make_passport(acme, 2).id, "revoked", "a")
    with db.reading() as s:
        repo = Passports(s)
        page1 = repo.listing(acme, limit=2)
        page2 = repo.listing(acme, limit=2, after=page1[-1].id)
        page3 = repo.listing(acme, limit=2, after=page2[-1].id)
        ids = [p.id for p in page1 + page2 + page3]
        assert ids == sorted(make_passport(acme, n).id for n in range(1, 6))
        assert [p.id for p in repo.listing(acme, status="revoked")] == [make_passport(acme, 2).id]
        code = make_passport(acme, 3).battery_code
        assert [p.battery_code for p in repo.listing(None, battery_code=code)] == [code]
        with pytest.raises(InvalidInput):
            repo.listing(acme, limit=0)


def test_status_changes_flip_bits(db: Database, tenants: dict[str, int]) -> None:
    p = make_passport(tenants["acme"])
    with db.transaction() as s:
        lists = StatusLists(s)
        lists.create("https://gw.example/status/r1", "revocation", "did:key:z1", size=64)
        lists.create("https://gw.example/status/s1", "suspension", "did:key:z1", size=64)
        rev = lists.allocate("https://gw.example/status/r1")
        sus = lists.allocate("https://gw.example/status/s1")
        creds = [
            NewCredential(p.id + "#p", "public", "di", "{}", rev.list_id, rev.index),
            NewCredential(p.id + "#l", "legitimate_interest", "di", "{}", sus.list_id, sus.index),
        ]
        Passports(s).save(p, creds, actor="a")

    def bits() -> tuple[bool, bool]:
        with db.reading() as s:
            lists = StatusLists(s)
            return lists.bit(rev.list_id, rev.index), lists.bit(sus.list_id, sus.index)

    assert bits() == (False, False)
    with db.transaction() as s:
        Passports(s).set_status(p.id, "suspended", "a", reason="under review")
    assert bits() == (False, True)
    with db.transaction() as s:
        Passports(s).set_status(p.id, "active", "a")
    assert bits() == (False, False)
    with db.transaction() as s:
        Passports(s).set_status(p.id, "revoked", "a")
    assert bits() == (True, True)
    with pytest.raises(Conflict, match="revoked"), db.transaction() as s:
        Passports(s).set_status(p.id, "active", "a")
    with db.reading() as s:
        actions = [e.action for e in AuditLog(s).entries(subject=p.id)]
        assert AuditLog(s).verify() is None
    assert actions == [
        "passport.issued",
        "passport.suspended",
        "passport.active",
        "passport.revoked",
    ]


@pytest.mark.parametrize(
    ("purpose", "status", "bit"),
    [
        ("revocation", "active", False),
        ("revocation", "suspended", False),
        ("revocation", "revoked", True),
        ("revocation", "superseded", True),
        ("suspension", "active", False),
        ("suspension", "suspended", True),
        ("suspension", "revoked", True),
    ],
)
def test_status_bit(purpose: str, status: str, bit: bool) -> None:
    assert status_bit(purpose, status) is bit


def test_second_life_supersedes(db: Database, tenants: dict[str, int]) -> None:
    original = make_passport(tenants["acme"], 1)
    with db.transaction() as s:
        Passports(s).save(original, [], actor="a")
    successor = make_passport(tenants["rival"], 2, predecessor_id=original.id)
    with db.transaction() as s:
        Passports(s).save(successor, [], actor="b")
    with db.reading() as s:
        old = Passports(s).get(original.id)
        assert (old.status, old.superseded_by) == ("superseded", successor.id)
        assert Passports(s).get(successor.id).predecessor_id == original.id
    missing = make_passport(tenants["acme"], 3, predecessor_id=BASE + "nothing")
    with pytest.raises(NotFound), db.transaction() as s:
        Passports(s).save(missing, [], actor="a")


def test_concurrent_retries_store_one_passport(db: Database, tenants: dict[str, int]) -> None:
    """Two copies of one request race: one stores, the other gets the stored passport."""

    p = make_passport(tenants["acme"], idempotency_key="retry-1")
    start = threading.Barrier(2)

    def save() -> bool:
        start.wait()
        with db.transaction() as s:
            return Passports(s).save(p, make_credentials(p.id), actor="a").created

    with ThreadPoolExecutor(2) as pool:
        created = sorted(f.result() for f in [pool.submit(save) for _ in range(2)])
    assert created == [False, True]
    assert counts(db) == (1, 2, 3)
