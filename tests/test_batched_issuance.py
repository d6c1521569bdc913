"""Bulk issuance a chunk at a time: the same outcomes as one record at a time, one audit
event per passport, and a chain that holds after many chunks and two concurrent runs.

Runs on SQLite, and on PostgreSQL when ``DATABASE_URL_TEST`` is set.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway.auth import Principal
from gateway.credentials.status_list import StatusRegistry
from gateway.errors import GatewayError, InvalidInput
from gateway.records.reader import read_record_file
from gateway.services import issuance
from gateway.services.instance import Instance
from gateway.services.tenants import console_principal
from gateway.serving import TURN, Turn
from gateway.store import AuditLog, Passports
from tests.helpers import RECORDS, issue_secrets, make_app

TEMPLATE = read_record_file(RECORDS / "ncm-ev-pack.json")
CODE = TEMPLATE["battery"]["code"]


def battery(n: int) -> dict[str, Any]:
    """The template record for the ``n``-th battery (GB/T 34014 serial digits varied)."""
    record = copy.deepcopy(TEMPLATE)
    record["battery"]["code"] = f"{CODE[:17]}{n:07d}"
    return record


class Gateway:
    """A fresh instance with one exporter tenant, and issuing into it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.instance: Instance = app.extensions["gateway.instance"]
        issue_secrets(app.extensions["gateway.settings"], {"acme": ("exporter",)})
        self.principal: Principal = console_principal(self.instance, "acme")

    def bulk(
        self, items: list[Any], keys: Mapping[int, str] | None = None
    ) -> list[issuance.Outcome]:
        return list(
            issuance.issue_many(
                self.instance,
                list(enumerate(items, start=1)),
                principal=self.principal,
                idempotency_key=(keys or {}).get,
            )
        )

    def one_by_one(
        self, items: list[Any], keys: Mapping[int, str] | None = None
    ) -> list[issuance.Outcome]:
        """What each record becomes issued alone, in order: the single-record path."""
        outcomes = []
        for number, item in enumerate(items, start=1):
            try:
                if isinstance(item, Exception):
                    raise item
                issued = issuance.issue_passport(
                    self.instance,
                    item,
                    principal=self.principal,
                    idempotency_key=(keys or {}).get(number),
                )
            except GatewayError as exc:
                outcomes.append(issuance.Outcome(number, problem=exc.to_problem(), error=exc))
            except Exception:
                outcomes.append(issuance.Outcome(number, problem=dict(issuance.INTERNAL_ERROR)))
            else:
                outcomes.append(issuance.Outcome(number, issued=issued))
        return outcomes

    def events(self) -> list[Any]:
        with self.instance.db.reading() as session:
            log = AuditLog(session)
            assert log.verify() is None
            return log.entries(limit=100_000)

    def passports(self) -> list[str]:
        with self.instance.db.reading() as session:
            return [p.id for p in Passports(session).listing(None, limit=1000)]


@pytest.fixture
def gateway(tmp_path: Path, backend_url: str) -> Iterator[Gateway]:
    app = make_app(tmp_path / "instance", database_url=backend_url)
    try:
        yield Gateway(app)
    finally:
        app.extensions["gateway.instance"].db.dispose()


def _summary(outcomes: list[issuance.Outcome]) -> list[tuple[Any, ...]]:
    return [
        (
            o.number,
            o.outcome,
            o.issued.passport.id if o.issued else None,
            sorted(o.issued.credentials) if o.issued else None,
            (o.problem or {}).get("status"),
            (o.problem or {}).get("type"),
            (o.problem or {}).get("pointer"),
        )
        for o in outcomes
    ]


FAILS_IN_DRAFT = f"{CODE[:17]}0000666"


@pytest.fixture
def failing_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drafting one battery's passport fails inside the gateway."""
    draft = issuance.draft_passport

    def failing(record: Mapping[str, Any], **kwargs: Any) -> Any:
        if record["battery"]["code"] == FAILS_IN_DRAFT:
            raise RuntimeError("drafting failed")
        return draft(record, **kwargs)

    monkeypatch.setattr(issuance, "draft_passport", failing)


def test_a_chunk_gives_the_outcomes_one_by_one_gives(
    tmp_path: Path, failing_draft: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates, repeated keys, refused records and a failing draft, in one chunk and
    across chunks, end as issuing each record alone ends them (on two fresh stores)."""
    monkeypatch.setattr(issuance, "ISSUE_CHUNK", 5)
    failing = battery(0)
    failing["battery"]["code"] = FAILS_IN_DRAFT
    items: list[Any] = [
        battery(1),
        battery(2),
        battery(1),  # the same battery again: refused, it has a passport
        battery(3),  # key k: created
        battery(3),  # key k, same record: repeated
        battery(4),  # key k, another record: refused
        InvalidInput("not JSON", pointer="/"),  # a line that could not be read
        failing,
        battery(5),
        battery(2),  # a passport stored by an earlier chunk
        battery(6),  # key j
        battery(6),  # key j again, across the chunk boundary
        battery(7),
    ]
    keys = {4: "k", 5: "k", 6: "k", 11: "j", 12: "j"}
    bulk = make_app(tmp_path / "bulk")
    alone = make_app(tmp_path / "alone")
    try:
        got = Gateway(bulk).bulk(items, keys)
        want = Gateway(alone).one_by_one(items, keys)
    finally:
        bulk.extensions["gateway.instance"].db.dispose()
        alone.extensions["gateway.instance"].db.dispose()
    assert _summary(got) == _summary(want)
    assert [o.outcome for o in got] == [
        "created",
        "created",
        "refused",
        "created",
        "repeated",
        "refused",
        "refused",
        "refused",
        "created",
        "refused",
        "created",
        "repeated",
        "created",
    ]
    assert got[4].issued and got[3].issued
    assert got[4].issued.credentials == got[3].issued.credentials
    assert got[7].problem == issuance.INTERNAL_ERROR


def test_one_audit_event_per_passport_and_the_chain_holds_across_chunks(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issuance, "ISSUE_CHUNK", 8)
    outcomes = gateway.bulk([battery(n) for n in range(1, 30)])
    assert {o.outcome for o in outcomes} == {"created"}
    events = gateway.events()
    issued = [e for e in events if e.subject in set(gateway.passports())]
    assert sorted(e.subject for e in issued) == sorted(gateway.passports())
    assert {e.action for e in issued} == {"passport.issued"}
    # What the issue discloses is in the same event: field names, never values.
    disclosure = issued[0].data["disclosure"]
    assert disclosure["policy"].startswith("cn-export@")
    assert disclosure["withheld"] and all(isinstance(f, str) for f in disclosure["withheld"])
    assert [c["id"] for c in disclosure["credentials"]] == issued[0].data["credentials"]
    # A passport read back is the one told.
    with gateway.instance.db.reading() as session:
        stored = Passports(session).get(outcomes[0].issued.passport.id)  # type: ignore[union-attr]
        creds = Passports(session).credentials(stored.id)
    assert stored.record == battery(1)
    assert {c.access_group for c in creds} == set(outcomes[0].issued.credentials)  # type: ignore[union-attr]


def test_status_entries_are_reserved_in_growing_units_of_work(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long batch reserves more entries per unit of work as it goes (each reservation
    rewrites both lists), up to the cap; every credential still gets entries of its own,
    and a short batch leaves few reserved and unused."""
    from gateway.services import instance as instance_module

    monkeypatch.setattr(instance_module, "BULK_STATUS_CHUNK", 4)
    monkeypatch.setattr(issuance, "BULK_STATUS_CHUNK", 4)
    monkeypatch.setattr(issuance, "BULK_STATUS_MOST", 16)
    reserved: list[int] = []
    allocate = StatusRegistry.allocate

    def counted(
        self: StatusRegistry, purposes: Any = ("revocation", "suspension"), count: int = 1
    ) -> list[list[dict[str, str]]]:
        reserved.append(count)
        return allocate(self, purposes, count)

    monkeypatch.setattr(StatusRegistry, "allocate", counted)
    outcomes = gateway.bulk([battery(n) for n in range(1, 16)])
    assert {o.outcome for o in outcomes} == {"created"}
    per_record = len(outcomes[0].issued.credentials)  # type: ignore[union-attr]
    used = per_record * len(outcomes)
    assert reserved[:3] == [4, 8, 16] and set(reserved[2:]) == {16}
    assert sum(reserved) - used < 16
    entries = [
        (entry["statusListCredential"], entry["statusListIndex"])
        for o in outcomes
        for credential in o.issued.credentials.values()  # type: ignore[union-attr]
        for entry in credential["credentialStatus"]  # type: ignore[index]
    ]
    assert len(entries) == len(set(entries)) == 2 * used


def test_two_concurrent_bulk_runs_never_fork_the_chain(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issuance, "ISSUE_CHUNK", 6)
    results: dict[int, list[issuance.Outcome]] = {}

    def run(start: int) -> None:
        results[start] = gateway.bulk([battery(n) for n in range(start, start + 30)])

    # No list exists yet: both runs' first allocations race to create them.
    threads = [threading.Thread(target=run, args=(start,)) for start in (1, 1001)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(results) == [1, 1001]
    assert all(o.outcome == "created" for run in results.values() for o in run)
    events = gateway.events()  # verifies the chain
    assert len([e for e in events if e.action == "passport.issued"]) == 60
    assert len({e.hash for e in events}) == len(events)


def test_a_chunk_write_that_fails_is_answered_record_by_record(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer stores one of the chunk's batteries between its read and its write:
    that record is refused, the others are created."""
    sign = issuance.sign_credentials
    taken = battery(3)
    raced: list[bool] = []

    def racing(draft: Any, **kwargs: Any) -> Any:
        if draft.battery_code == taken["battery"]["code"] and not raced:
            raced.append(True)
            issuance.issue_passport(gateway.instance, taken, principal=gateway.principal)
        return sign(draft, **kwargs)

    monkeypatch.setattr(issuance, "sign_credentials", racing)
    outcomes = gateway.bulk([battery(n) for n in range(1, 6)])
    assert [o.outcome for o in outcomes] == ["created", "created", "refused", "created", "created"]
    assert outcomes[2].problem and outcomes[2].problem["status"] == 409
    assert len(gateway.passports()) == 5
    events = gateway.events()
    assert len([e for e in events if e.action == "passport.issued"]) == 5


def test_what_a_failing_source_sent_is_still_issued(gateway: Gateway) -> None:
    """A stream that fails mid-chunk (a client that stalled): the records it sent before
    are issued and told, then the failure ends the run."""

    def stalling() -> Iterator[tuple[int, Any]]:
        yield from enumerate([battery(n) for n in range(1, 4)], start=1)
        raise TimeoutError("the client stopped sending")

    outcomes: list[issuance.Outcome] = []
    with pytest.raises(TimeoutError):
        for outcome in issuance.issue_many(
            gateway.instance, stalling(), principal=gateway.principal
        ):
            outcomes.append(outcome)
    assert [o.outcome for o in outcomes] == ["created"] * 3
    assert len(gateway.passports()) == 3


def test_a_long_conversion_in_a_served_request_leaves_its_turn(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Converting many records in one request (a small batch, a page's upload) lets the
    requests waiting for the worker's turn start once it has had its slice
    (:class:`gateway.serving.Turn`), between two records."""
    monkeypatch.setattr(Turn, "SLICE", 0.0)
    started: list[int] = []
    TURN.take()
    waiter = threading.Thread(target=lambda: (TURN.take(), started.append(1), TURN.leave()))
    try:
        waiter.start()
        deadline = time.monotonic() + 10
        while TURN.waiting() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        outcomes = gateway.bulk([battery(n) for n in range(1, 3)])
        waiter.join(10)
        started_meanwhile = list(started)  # before this thread's own turn ends
    finally:
        TURN.leave()
    assert [o.outcome for o in outcomes] == ["created", "created"]
    assert started_meanwhile == [1] and TURN.holder() is None
