"""Append-only, hash-chained audit log.

Each event's ``hash`` is SHA-256 over the previous event's hash followed by the event's
canonical JSON, so altering, deleting or reordering a stored event breaks the chain at
that point. Removing events from the *end* leaves a valid, shorter chain: keep
:meth:`AuditLog.head` somewhere else (a log line, a signed daily note) to detect that.

A retention purge clears an old event's details and marks it ``purged_at``, keeping its
``prev_hash`` and ``hash``: the walk then checks that the purged event links to the one
before it and the next one to it, which it still does, and cannot recompute the purged
event's own hash, which it no longer needs to vouch for (its contents are gone on
purpose, and the purge is itself an event naming how many and up to which id).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from gateway.errors import InvalidInput
from gateway.jsonvalues import first_float
from gateway.store import tables
from gateway.store.tables import utcnow

GENESIS = "0" * 64
#: The event a retention purge writes; ``data.audit.through_id`` is the last event whose
#: details it may have cleared.
PURGE_ACTION = "retention.purged"
# Serialises appenders on PostgreSQL; any constant works if every process uses it.
_AUDIT_LOCK = 0x6761_7465_7761_7902
_EVENTS = cast(Table, tables.AuditEvent.__table__)
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_LAST_HASH = select(_EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)


@dataclass(frozen=True)
class NewEvent:
    """An event to append: who did what to what, with its details (no floats)."""

    actor: str
    action: str
    subject: str
    data: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """One stored audit event."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str
    #: Retention cleared its details; its digests stay in the chain.
    purged: bool = False


def canonical_bytes(value: Any, pointer: str = "/data") -> bytes:
    """Sorted-key, compact JSON in UTF-8: one text per value, as the hashes read it.

    Floats are refused: their text is not stable across JSON stores (PostgreSQL
    ``jsonb`` keeps numbers as decimals) and the project keeps decimals as strings.

    :param value: JSON-compatible data of str, int, bool, None, list and dict.
    :param pointer: JSON pointer of ``value`` in the request, for error messages.
    :returns: the canonical text's bytes (hashed as they are: a record's text is not
        decoded to be encoded again).
    :raises InvalidInput: for a float, a non-JSON type or a lone surrogate.
    """
    found = first_float(value, pointer)
    if found is not None:
        raise InvalidInput("floats are not allowed; write decimals as strings", pointer=found)
    try:
        # orjson's text is json's for JSON data without floats (sorted by code point,
        # the same escapes), several times faster; what it refuses or would write by
        # its own rules (integers beyond 64 bits, other key types, subclasses, dates,
        # dataclasses) goes to json, which writes or refuses it as the stored hashes
        # were made.
        return orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:
        pass
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            "a text holds a lone surrogate, which UTF-8 cannot write", pointer=pointer
        ) from exc
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not JSON data: {exc}", pointer=pointer) from exc


def event_hash(
    prev_hash: str, at: datetime, actor: str, action: str, subject: str, data: dict[str, Any]
) -> str:
    """The chained hash of one event.

    :param prev_hash: hash of the previous event, :data:`GENESIS` for the first.
    :param at: when it happened (UTC).
    :param actor: who did it (``tenant:acme``, ``cli``, ``admin:3`` ...).
    :param action: what was done (``passport.issued`` ...).
    :param subject: what it was done to (a passport id, ``mapping:set@version`` ...).
    :param data: details.
    :returns: hex SHA-256 of ``prev_hash`` + canonical JSON of the event.
    """
    event = {
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": data,
    }
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical_bytes(event)).hexdigest()


def _entry(row: tables.AuditEvent) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        data=row.data,
        prev_hash=row.prev_hash,
        hash=row.hash,
        purged=row.purged_at is not None,
    )


class AuditLog:
    """The audit log, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self, actor: str, action: str, subject: str, data: dict[str, Any] | None = None
    ) -> AuditEntry:
        """Add an event at the end of the chain.

        Appenders are serialised (advisory lock on PostgreSQL, the write lock on
        SQLite) until the unit of work ends, so the chain never forks.

        :param actor: who did it.
        :param action: what was done.
        :param subject: what it was done to.
        :param data: details (no floats).
        :returns: the stored entry.
        :raises InvalidInput: when ``data`` holds floats or non-JSON values.
        """
        data = dict(data or {})
        canonical_bytes(data)
        prev_hash = self._lock_head()
        at = utcnow()
        row = tables.AuditEvent(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            data=data,
            prev_hash=prev_hash,
            hash=event_hash(prev_hash, at, actor, action, subject, data),
        )
        self.session.add(row)
        self.session.flush()
        return _entry(row)

    def append_many(self, events: Sequence[NewEvent]) -> None:
        """Add events at the end of the chain, in order, with one read of the last hash
        and one multi-row insert: the chain is computed in memory, under the same lock as
        :meth:`append`, so it never forks.

        :raises InvalidInput: when an event's data holds floats or non-JSON values.
        """
        if not events:
            return
        prev_hash = self._lock_head()
        at = utcnow()
        rows = []
        for event in events:
            digest = event_hash(prev_hash, at, event.actor, event.action, event.subject, event.data)
            rows.append(
                {
                    "at": at,
                    "actor": event.actor,
                    "action": event.action,
                    "subject": event.subject,
                    "data": event.data,
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash = digest
        self.session.execute(insert(_EVENTS), rows)

    def _lock_head(self) -> str:
        """Take the appenders' lock (advisory on PostgreSQL; on SQLite the write lock the
        unit of work holds once it writes) and read the hash the next event chains to."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.connection().exec_driver_sql(
                f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK})"
            )
        # Pending ORM rows (an event appended earlier in this unit of work) first.
        self.session.flush()
        prev = self.session.scalar(_LAST_HASH)
        return prev or GENESIS

    def entries(
        self, subject: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[AuditEntry]:
        """Events in chain order.

        :param subject: only events about this subject.
        :param after_id: only events with a larger id (keyset paging).
        :param limit: at most this many.
        :returns: the entries.
        """
        query = select(tables.AuditEvent).where(tables.AuditEvent.id > after_id)
        if subject is not None:
            query = query.where(tables.AuditEvent.subject == subject)
        rows = self.session.scalars(query.order_by(tables.AuditEvent.id).limit(limit))
        return [_entry(r) for r in rows]

    def head(self) -> tuple[int, str] | None:
        """The last event's id and hash, to anchor the chain outside the database.

        :returns: ``(id, hash)``, or ``None`` for an empty log.
        """
        row = self.session.execute(
            select(tables.AuditEvent.id, tables.AuditEvent.hash)
            .order_by(tables.AuditEvent.id.desc())
            .limit(1)
        ).first()
        return None if row is None else (row[0], row[1])

    def verify(self) -> int | None:
        """Walk the chain in id order and recompute every hash.

        :returns: the id of the first event that does not chain (altered, or following a
            deleted or moved event), or ``None`` when the whole chain holds.
        """
        expected_prev = GENESIS
        # Purged events must lie within what a later ``retention.purged`` event names:
        # marking an altered event purged does not hide it.
        purged: list[int] = []
        covered = 0
        rows = self.session.scalars(
            select(tables.AuditEvent)
            .order_by(tables.AuditEvent.id)
            .execution_options(yield_per=1000)
        )
        try:
            for row in rows:
                if row.prev_hash != expected_prev:
                    return row.id
                if row.purged_at is not None:
                    purged.append(row.id)
                    expected_prev = row.hash
                    continue
                if row.action == PURGE_ACTION:
                    through = row.data.get("audit", {}).get("through_id")
                    covered = max(covered, through if isinstance(through, int) else 0)
                recomputed = event_hash(
                    row.prev_hash, row.at, row.actor, row.action, row.subject, row.data
                )
                if recomputed != row.hash:
                    return row.id
                expected_prev = row.hash
        finally:
            # A server-side cursor on PostgreSQL: release it when returning early.
            rows.close()
        return next((i for i in purged if i > covered), None)
