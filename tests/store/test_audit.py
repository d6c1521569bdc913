"""The audit chain: altering, deleting or reordering an event is detected."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import delete, select, update

from gateway.errors import InvalidInput
from gateway.store import AuditLog
from gateway.store.audit import GENESIS
from gateway.store.db import Database
from gateway.store.tables import AuditEvent


@pytest.fixture
def chain(db: Database) -> Database:
    with db.transaction() as s:
        log = AuditLog(s)
        for i in range(5):
            log.append("cli", "test.event", f"subject-{i}", {"n": i, "text": "电池 ✓"})
    return db


def test_chain_holds(chain: Database) -> None:
    with chain.reading() as s:
        log = AuditLog(s)
        assert log.verify() is None
        entries = log.entries()
        assert log.head() == (entries[-1].id, entries[-1].hash)
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_hash_recipe(chain: Database) -> None:
    """hash = sha256(prev_hash + sorted-key compact JSON of the event), checked by hand."""
    with chain.reading() as s:
        first = AuditLog(s).entries(limit=1)[0]
    event = {
        "action": "test.event",
        "actor": "cli",
        "at": first.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": {"n": 0, "text": "电池 ✓"},
        "subject": "subject-0",
    }
    text = GENESIS + json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256(text.encode()).hexdigest()


def _ids(db: Database) -> list[int]:
    with db.reading() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_altered_event(chain: Database) -> None:
    ids = _ids(chain)
    with chain.transaction() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(actor="mallory"))
    with chain.reading() as s:
        assert AuditLog(s).verify() == ids[2]


def test_altered_data(chain: Database) -> None:
    ids = _ids(chain)
    with chain.transaction() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(data={"n": 99}))
    with chain.reading() as s:
        assert AuditLog(s).verify() == ids[1]


def test_deleted_event(chain: Database) -> None:
    ids = _ids(chain)
    with chain.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    with chain.reading() as s:
        assert AuditLog(s).verify() == ids[3]


def test_deleted_first_event(chain: Database) -> None:
    ids = _ids(chain)
    with chain.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[0]))
    with chain.reading() as s:
        assert AuditLog(s).verify() == ids[1]


def test_reordered_events(chain: Database) -> None:
    """Swap two events' contents (hashes included) between their ids."""
    ids = _ids(chain)
    columns = ["at", "actor", "action", "subject", "data", "prev_hash", "hash"]
    with chain.transaction() as s:
        a, b = (s.get(AuditEvent, i) for i in (ids[1], ids[3]))
        va = {c: getattr(a, c) for c in columns}
        vb = {c: getattr(b, c) for c in columns}
        # hash is unique: park one row's hash first.
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(hash="x"))
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[3]).values(**va))
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(**vb))
    with chain.reading() as s:
        assert AuditLog(s).verify() == ids[1]


def test_appends_continue_the_chain(chain: Database) -> None:
    with chain.transaction() as s:
        AuditLog(s).append("cli", "later", "x")
    with chain.reading() as s:
        assert AuditLog(s).verify() is None
        assert len(AuditLog(s).entries(subject="x")) == 1


def test_floats_refused(db: Database) -> None:
    with pytest.raises(InvalidInput) as err, db.transaction() as s:
        AuditLog(s).append("cli", "x", "y", {"soh": [1, 0.5]})
    assert err.value.pointer == "/data/soh/1"
