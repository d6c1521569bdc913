"""The audit trail as the CLI, the API and evidence packages read it: check the hash chain,
list events, and write an event in the form an inspector recomputes its hash from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from gateway.store import AuditLog
from gateway.store.audit import AuditEntry, event_hash
from gateway.store.db import Database

# Rows read per unit of work while walking the whole log.
_PAGE = 1000
#: How ``at`` is written in the hashed text (see :func:`gateway.store.audit.event_hash`).
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of walking the whole chain.

    :ivar events: how many events the log holds.
    :ivar head: ``(id, hash)`` of the last event, ``None`` for an empty log.
    :ivar broken: the first event that does not chain, ``None`` when intact.
    :ivar reason: why ``broken`` does not chain.
    """

    events: int
    head: tuple[int, str] | None
    broken: AuditEntry | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_audit(db: Database) -> AuditCheck:
    """Recompute every hash of the audit chain and name the first event that breaks it.

    :param db: the instance's database.
    :returns: the outcome; an altered event is named itself, a deleted, inserted or moved
        one by the event that follows it.
    """
    with db.reading() as session:
        log = AuditLog(session)
        broken_id = log.verify()
        head = log.head()
        count, after = 0, 0
        while page := log.entries(after_id=after, limit=_PAGE):
            count += len(page)
            after = page[-1].id
        if broken_id is None:
            return AuditCheck(count, head)
        [broken] = log.entries(after_id=broken_id - 1, limit=1)
    recomputed = event_hash(
        broken.prev_hash, broken.at, broken.actor, broken.action, broken.subject, broken.data
    )
    if broken.purged:
        reason = (
            "its details were cleared, but no retention purge event covers it: "
            "it was altered and marked purged"
        )
    elif recomputed != broken.hash:
        reason = "altered: its stored fields no longer give its stored hash"
    else:
        reason = (
            "its prev_hash is not the hash of the event before it: an event before "
            "it was deleted, inserted or moved"
        )
    return AuditCheck(count, head, broken, reason)


def audit_entries(
    db: Database, *, subject: str | None = None, after_id: int = 0, limit: int = 100
) -> list[AuditEntry]:
    """Events in chain order, a page at a time.

    :param db: the instance's database.
    :param subject: only events about this subject (a passport id is its URL).
    :param after_id: only events after this id.
    :param limit: at most this many.
    :returns: the events.
    """
    with db.reading() as session:
        return AuditLog(session).entries(subject=subject, after_id=after_id, limit=limit)


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    """An event as JSON data, ``at`` written exactly as it is hashed, so that
    ``sha256(prev_hash + canonical JSON of {at, actor, action, subject, data})`` gives
    ``hash``.

    :param entry: the event.
    :returns: ``{id, at, actor, action, subject, data, prev_hash, hash}``, and
        ``purged: true`` for an event whose details retention cleared (its hash is then
        not recomputed: it links the chain, see ``gateway.store.audit``).
    """
    found = {
        "id": entry.id,
        "at": entry.at.astimezone(UTC).strftime(AT_FORMAT),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "data": entry.data,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
    if entry.purged:
        found["purged"] = True
    return found
