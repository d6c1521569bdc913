"""Retention: periods per tenant (8 years at least, only ever longer), what is due, the
purge (records cleared, a year's data key destroyed, audit details cleared with their
digests kept) and the audit chain still verifying afterwards; ``gateway retention`` and
``gateway keys kek`` on the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from gateway.errors import InvalidInput
from gateway.services import check_audit
from gateway.services.retention import purge, retention_plan, set_retention
from gateway.settings import Settings
from gateway.store import AuditLog, Passports
from gateway.store import tables as t
from gateway.store.encryption import LASTING
from tests.helpers import RECORDS, GatewayRunner, issue_keys, make_app

YEARS_AGO = 9


def _url(db_url: str) -> str:
    return "" if db_url.startswith("sqlite") else db_url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "instance"


def _record(code_end: str) -> dict[str, Any]:
    record = json.loads((RECORDS / "vin-repair-pack.json").read_text(encoding="utf-8"))
    record["battery"]["code"] = record["battery"]["code"][:-3] + code_end
    return record


def _issue(app: Flask, headers: dict[str, str], code_end: str) -> str:
    response = app.test_client().post("/passports", json=_record(code_end), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def _age(app: Flask, passport_id: str) -> None:
    """Move a passport, its data key and every audit event so far nine years back."""
    db = app.extensions["gateway.instance"].db
    with db.transaction() as session:
        row = session.get(t.Passport, passport_id)
        assert row is not None
        row.created_at = row.created_at - timedelta(days=365 * YEARS_AGO + 3)
        session.execute(
            update(t.DataKey)
            .where(t.DataKey.tenant_id == row.tenant_id, t.DataKey.period != LASTING)
            .values(period=row.created_at.year)
        )
        # The chain's hashes cover ``at``: age the events by re-chaining them the way
        # the log would have written them then.
        from gateway.store.audit import GENESIS, event_hash

        prev = GENESIS
        for event in session.scalars(select(t.AuditEvent).order_by(t.AuditEvent.id)):
            event.at = event.at - timedelta(days=365 * YEARS_AGO + 3)
            event.prev_hash = prev
            event.hash = prev = event_hash(
                prev, event.at, event.actor, event.action, event.subject, event.data
            )


@pytest.fixture
def aged(home: Path, db_url: str) -> Any:
    """An instance with one passport of acme stored nine years ago and one of today."""
    app = make_app(home, _url(db_url))
    headers = issue_keys(Settings(home=home, database_url=_url(db_url)))
    old = _issue(app, headers["exporter"], "901")
    _age(app, old)
    app.extensions["gateway.instance"].db.dispose()
    # A fresh process: the sealer's memory of this year's key is gone with the old one.
    app = make_app(home, _url(db_url))
    new = _issue(app, headers["exporter"], "902")
    app.config["TEST_HEADERS"] = headers
    yield app, old, new
    app.extensions["gateway.instance"].db.dispose()


def test_plan_purge_and_the_chain_still_verifies(aged: Any) -> None:
    app, old, new = aged
    db = app.extensions["gateway.instance"].db
    now = t.utcnow()
    plan = retention_plan(db, now)
    [acme] = [x for x in plan.tenants if x.periods.tenant == "acme"]
    assert (acme.periods.records_years, acme.due) == (8, 1)
    assert plan.audit_due > 0 and plan.audit_through_id is not None
    # A dry run changes nothing (judged at the same moment: the cut-off is to the second).
    assert purge(db, "cli", dry_run=True, now=now)[1] is None
    assert retention_plan(db, now).as_json()["tenants"] == plan.as_json()["tenants"]
    _, done = purge(db, "cli")
    assert done is not None
    assert done["records"]["acme"]["cleared"] == 1
    assert done["records"]["acme"]["data_keys_destroyed"] == 1
    assert done["audit"]["cleared"] == plan.audit_due
    assert done["audit"]["through_id"] == plan.audit_through_id
    with db.reading() as session:
        gone = Passports(session).get(old)
        assert gone.status == "active" and gone.record_sha256  # the passport stays
        assert gone.record == {"production": {"batch": "JC-2024-07-04-A"}}
        assert Passports(session).get(new).record["vehicle"]["vin"] == "LNBSCTEST00000001"
        keys = session.scalars(select(t.DataKey).order_by(t.DataKey.id)).all()
        # The old year's key is gone; the lasting key (credentials) and this year's stay.
        assert [(k.period == LASTING, k.wrapped is None) for k in keys] == [
            (False, True),
            (True, False),
            (False, False),
        ]
        event = session.scalars(
            select(t.AuditEvent).where(t.AuditEvent.action == "retention.purged")
        ).one()
        assert "LNBSCTEST" not in json.dumps(event.data)
    check = check_audit(db)
    assert check.intact, check.reason
    # The passport and every credential stay readable: an authority reads points 1-3.
    code = old.rsplit("/", 1)[1]
    authority = app.config["TEST_HEADERS"]["authority"]
    with db.reading() as session:
        kept = {c.access_group: c.body for c in Passports(session).credentials(old)}
    assert len(kept) > 1 and all(kept.values())  # sealed ones open with the lasting key
    client = app.test_client()
    for section in sorted(set(kept) & {"annex-xiii-1", "annex-xiii-2", "annex-xiii-3"}):
        read = client.get(f"/passports/{code}/credentials/{section}", headers=authority)
        assert read.status_code == 200, (section, read.get_data(as_text=True))
    aasx = client.get(f"/passports/{code}/aasx", headers=authority)
    assert aasx.status_code == 200, aasx.get_data(as_text=True)
    # Nothing more is due.
    again = retention_plan(db)
    assert again.audit_due == 0 and all(x.due == 0 for x in again.tenants)
    assert purge(db, "cli")[1] is None


def test_an_altered_event_marked_purged_breaks_the_chain(aged: Any) -> None:
    app, _, _ = aged
    db = app.extensions["gateway.instance"].db
    purge(db, "cli")
    with db.transaction() as session:
        AuditLog(session).append("cli", "tenant.renamed", "tenant:acme", {"to": "acme2"})
    with db.transaction() as session:
        last = session.scalars(select(t.AuditEvent).order_by(t.AuditEvent.id.desc())).first()
        assert last is not None
        last.data = {"forged": True}
        last.purged_at = t.utcnow()
        last_id = last.id
    check = check_audit(db)
    assert check.broken is not None and check.broken.id == last_id
    assert "no retention purge event covers it" in (check.reason or "")


def test_periods_only_grow(aged: Any) -> None:
    app, _, _ = aged
    db = app.extensions["gateway.instance"].db
    with pytest.raises(InvalidInput, match="records_years"):
        set_retention(db, "acme", "cli", records_years=7, audit_years=None)
    periods = set_retention(db, "acme", "cli", records_years=10, audit_years=12)
    assert (periods.records_years, periods.audit_years) == (10, 12)
    with pytest.raises(InvalidInput, match="records_years"):
        set_retention(db, "acme", "cli", records_years=9, audit_years=None)
    plan = retention_plan(db)
    [acme] = [x for x in plan.tenants if x.periods.tenant == "acme"]
    # Nine years ago is inside ten: nothing is due now, and audit waits twelve years.
    assert acme.due == 0 and plan.audit_years == 12 and plan.audit_due == 0


def test_cli(aged: Any, home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _, _ = aged
    app.extensions["gateway.instance"].db.dispose()
    if _url(db_url):
        monkeypatch.setenv("DATABASE_URL", db_url)
    runner = GatewayRunner(home)
    listed = runner.invoke(args=["retention", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [acme] = [x for x in json.loads(listed.output)["tenants"] if x["tenant"] == "acme"]
    assert acme["records_due"] == 1
    dry = runner.invoke(args=["retention", "purge", "--dry-run", "--json"])
    assert dry.exit_code == 0 and json.loads(dry.output)["purged"] is None
    refused = runner.invoke(args=["retention", "set", "acme", "--records-years", "7"])
    assert refused.exit_code == 2
    runner.invoke(args=["retention", "set", "acme", "--records-years", "9"])
    shorter = runner.invoke(args=["retention", "set", "acme", "--records-years", "8"])
    assert shorter.exit_code == 1 and "records_years" in shorter.output
    unknown = runner.invoke(args=["retention", "set", "nobody", "--records-years", "9"])
    assert unknown.exit_code == 1
    done = runner.invoke(args=["retention", "purge", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["purged"]["audit"]["cleared"] > 0
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output
    keks = runner.invoke(args=["keys", "kek", "list", "--json"])
    assert keks.exit_code == 0, keks.output
    [kek] = json.loads(keks.output)
    # Nine years kept the 2017 key: its year is not wholly before the cutoff yet.
    assert kek["current"] and kek["cipher"] == "aes-256-gcm" and kek["data_keys"] == 3
    rotated = runner.invoke(args=["keys", "kek", "rotate", "--cipher", "sm4-gcm"])
    assert rotated.exit_code == 0 and "3 data keys re-wrapped" in rotated.output
    states = json.loads(runner.invoke(args=["keys", "kek", "list", "--json"]).output)
    assert [(s["current"], s["data_keys"]) for s in states] == [(False, 0), (True, 3)]
