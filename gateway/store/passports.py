"""Passports and their credentials.

A passport and all of its credentials are saved in one go or not at all (DESIGN §5
Errors), together with the audit event that records the issue. An idempotency key makes
a retried request return what the first one stored instead of a second passport.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.annex_xiii import ALL_SECTIONS, is_section
from gateway.credentials.formats import PROOF_FORMATS
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.store import tables
from gateway.store.audit import AuditLog, canonical_json
from gateway.store.status_lists import StatusLists

# Status changes a passport may go through; revoked and superseded are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"revoked", "suspended", "superseded"}),
    "suspended": frozenset({"active", "revoked", "superseded"}),
    "revoked": frozenset(),
    "superseded": frozenset(),
}


def status_bit(purpose: str, status: str) -> bool:
    """The bit a credential's status list entry carries for a passport status.

    A credential has one status entry. A revocation entry is set once the passport is
    revoked or superseded (Art. 77(7): the original passport is replaced); a suspension
    entry is set whenever the passport is not active, so a credential that has only a
    suspension entry still reads as invalid after revocation.

    :param purpose: the list's ``statusPurpose``.
    :param status: the passport status.
    :returns: the bit.
    """
    if purpose == "revocation":
        return status in ("revoked", "superseded")
    return status != "active"


@dataclass(frozen=True)
class NewCredential:
    """A signed credential to store with its passport.

    :ivar id: the credential's id (its ``id`` claim, or a ``urn:uuid:``).
    :ivar access_group: the section whose data it carries (``annex-xiii-N``, one Annex
        XIII point; or an earlier access group, see ``gateway.annex_xiii``).
    :ivar format: ``di`` (Data Integrity JSON-LD) or ``jwt`` (``vc+jwt`` compact JWS).
    :ivar body: the secured credential exactly as issued.
    """

    id: str
    access_group: str
    format: str
    body: str
    status_list_id: str | None = None
    status_index: int | None = None


@dataclass(frozen=True)
class NewPassport:
    """A passport to store; ``record_sha256`` defaults to the hash of the record's
    canonical JSON."""

    id: str
    battery_code: str
    tenant_id: int
    category: str
    mapping_set: str
    mapping_version: str
    mapping_hash: str
    record: dict[str, Any]
    gaps: dict[str, Any] = field(default_factory=dict)
    record_sha256: str | None = None
    predecessor_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class StoredCredential:
    id: str
    passport_id: str
    access_group: str
    format: str
    body: str
    status_list_id: str | None
    status_index: int | None
    created_at: datetime


@dataclass(frozen=True)
class StoredPassport:
    id: str
    battery_code: str
    tenant_id: int
    category: str
    status: str
    superseded_by: str | None
    predecessor_id: str | None
    mapping_set: str
    mapping_version: str
    mapping_hash: str
    record_sha256: str
    record: dict[str, Any]
    gaps: dict[str, Any]
    created_at: datetime
    idempotency_key: str | None


@dataclass(frozen=True)
class SaveResult:
    """What :meth:`Passports.save` stored or found.

    :ivar created: ``False`` when an earlier request with the same idempotency key had
        already stored this passport.
    """

    passport: StoredPassport
    credentials: tuple[StoredCredential, ...]
    created: bool


def _passport(row: tables.Passport) -> StoredPassport:
    return StoredPassport(
        id=row.id,
        battery_code=row.battery_code,
        tenant_id=row.tenant_id,
        category=row.category,
        status=row.status,
        superseded_by=row.superseded_by,
        predecessor_id=row.predecessor_id,
        mapping_set=row.mapping_set,
        mapping_version=row.mapping_version,
        mapping_hash=row.mapping_hash,
        record_sha256=row.record_sha256,
        record=row.record,
        gaps=row.gaps,
        created_at=row.created_at,
        idempotency_key=row.idempotency_key,
    )


def stored_credential(row: tables.Credential) -> StoredCredential:
    """A credential row as the store hands it out."""
    return StoredCredential(
        id=row.id,
        passport_id=row.passport_id,
        access_group=row.access_group,
        format=row.format,
        body=row.body,
        status_list_id=row.status_list_id,
        status_index=row.status_index,
        created_at=row.created_at,
    )


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON.

    :param record: the national record as stored.
    :returns: hex digest.
    """
    return hashlib.sha256(canonical_json(record, "/record").encode("utf-8")).hexdigest()


def _check_credentials(credentials: Sequence[NewCredential]) -> None:
    for i, cred in enumerate(credentials):
        if not is_section(cred.access_group):
            raise InvalidInput(
                f"access group must be one of {', '.join(ALL_SECTIONS)}",
                pointer=f"/credentials/{i}/access_group",
            )
        if cred.format not in PROOF_FORMATS:
            raise InvalidInput(
                f"credential format must be one of {', '.join(PROOF_FORMATS)}",
                pointer=f"/credentials/{i}/format",
            )
        if (cred.status_list_id is None) != (cred.status_index is None):
            raise InvalidInput(
                "status_list_id and status_index go together",
                pointer=f"/credentials/{i}/status_index",
            )


class Passports:
    """Passports and credentials, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(
        self, passport: NewPassport, credentials: Sequence[NewCredential], actor: str
    ) -> SaveResult:
        """Store a passport with all its credentials, or nothing.

        With a ``predecessor_id`` (second life, Art. 77(7)) the predecessor is marked
        ``superseded`` in the same unit of work.

        :param passport: the passport.
        :param credentials: its signed credentials.
        :param actor: who issues it, for the audit log.
        :returns: the stored (or, for a repeated idempotency key, the existing) passport.
        :raises InvalidInput: for a bad credential field.
        :raises Conflict: when the passport id exists, the idempotency key was used for a
            different record, or a credential clashes with a stored one.
        :raises NotFound: when the predecessor does not exist.
        """
        _check_credentials(credentials)
        digest = passport.record_sha256 or record_hash(passport.record)
        if passport.idempotency_key is not None:
            earlier = self._by_idempotency_key(passport.tenant_id, passport.idempotency_key)
            if earlier is not None:
                return self._repeat(earlier, digest, passport.idempotency_key)
        if self.session.get(tables.Passport, passport.id) is not None:
            # On PostgreSQL (read committed) a concurrent request with the same key may
            # have committed between the look-up above and this one: answer from it.
            if passport.idempotency_key is not None:
                earlier = self._by_idempotency_key(passport.tenant_id, passport.idempotency_key)
                if earlier is not None:
                    return self._repeat(earlier, digest, passport.idempotency_key)
            raise Conflict(f"passport {passport.id} already exists", pointer="/id")
        if passport.predecessor_id is not None:
            self._row(passport.predecessor_id, None)
        row = tables.Passport(
            id=passport.id,
            battery_code=passport.battery_code,
            tenant_id=passport.tenant_id,
            category=passport.category,
            status="active",
            predecessor_id=passport.predecessor_id,
            mapping_set=passport.mapping_set,
            mapping_version=passport.mapping_version,
            mapping_hash=passport.mapping_hash,
            record_sha256=digest,
            record=passport.record,
            gaps=passport.gaps,
            idempotency_key=passport.idempotency_key,
        )
        try:
            # A savepoint, so a concurrent request with the same idempotency key that
            # committed first can be answered from its row instead of failing.
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError as exc:
            if passport.idempotency_key is not None:
                earlier = self._by_idempotency_key(passport.tenant_id, passport.idempotency_key)
                if earlier is not None:
                    return self._repeat(earlier, digest, passport.idempotency_key)
            raise Conflict(f"passport {passport.id} clashes with stored data: {exc.orig}") from exc
        creds = [
            tables.Credential(
                id=c.id,
                passport_id=row.id,
                access_group=c.access_group,
                format=c.format,
                body=c.body,
                status_list_id=c.status_list_id,
                status_index=c.status_index,
            )
            for c in credentials
        ]
        self.session.add_all(creds)
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"a credential of passport {passport.id} clashes with stored data: {exc.orig}"
            ) from exc
        if passport.predecessor_id is not None:
            self.set_status(passport.predecessor_id, "superseded", actor, superseded_by=passport.id)
        AuditLog(self.session).append(
            actor,
            "passport.issued",
            passport.id,
            {
                "tenant_id": passport.tenant_id,
                "battery_code": passport.battery_code,
                "mapping": f"{passport.mapping_set}@{passport.mapping_version}",
                "mapping_hash": passport.mapping_hash,
                "record_sha256": digest,
                "credentials": [c.id for c in credentials],
            },
        )
        return SaveResult(_passport(row), tuple(stored_credential(c) for c in creds), True)

    def get(self, passport_id: str, tenant_id: int | None = None) -> StoredPassport:
        """One passport.

        :param passport_id: its id (URL).
        :param tenant_id: when given, only a passport of this tenant is found.
        :returns: the passport.
        :raises NotFound: when there is none (or it belongs to another tenant).
        """
        return _passport(self._row(passport_id, tenant_id))

    def credentials(
        self, passport_id: str, groups: Iterable[str] | None = None
    ) -> list[StoredCredential]:
        """A passport's credentials.

        :param passport_id: the passport.
        :param groups: only these sections.
        :returns: the credentials, by section then format.
        """
        query = select(tables.Credential).where(tables.Credential.passport_id == passport_id)
        if groups is not None:
            query = query.where(tables.Credential.access_group.in_(list(groups)))
        rows = self.session.scalars(
            query.order_by(tables.Credential.access_group, tables.Credential.format)
        )
        return [stored_credential(r) for r in rows]

    def listing(
        self,
        tenant_id: int | None,
        *,
        status: str | None = None,
        battery_code: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StoredPassport]:
        """Passports in id order, a page at a time.

        :param tenant_id: only this tenant's passports; ``None`` for all tenants (see
            :func:`gateway.auth.list_scope`).
        :param status: only passports in this status.
        :param battery_code: only passports of this battery.
        :param after: the last id of the previous page.
        :param limit: page size, 1-1000.
        :returns: the passports.
        :raises InvalidInput: for a bad limit.
        """
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000", pointer="/limit")
        query = select(tables.Passport)
        if tenant_id is not None:
            query = query.where(tables.Passport.tenant_id == tenant_id)
        if status is not None:
            query = query.where(tables.Passport.status == status)
        if battery_code is not None:
            query = query.where(tables.Passport.battery_code == battery_code)
        if after is not None:
            query = query.where(tables.Passport.id > after)
        rows = self.session.scalars(query.order_by(tables.Passport.id).limit(limit))
        return [_passport(r) for r in rows]

    def count(self, tenant_id: int | None) -> int:
        """How many passports a tenant has.

        :param tenant_id: the tenant; ``None`` for all tenants.
        :returns: the number.
        """
        query = select(func.count()).select_from(tables.Passport)
        if tenant_id is not None:
            query = query.where(tables.Passport.tenant_id == tenant_id)
        return int(self.session.scalar(query) or 0)

    def set_status(
        self,
        passport_id: str,
        status: str,
        actor: str,
        *,
        tenant_id: int | None = None,
        superseded_by: str | None = None,
        reason: str | None = None,
    ) -> StoredPassport:
        """Revoke, suspend, reactivate or supersede a passport, flip its credentials'
        status list bits (see :func:`status_bit`) and record the change in the audit log.

        :param passport_id: the passport.
        :param status: the new status.
        :param actor: who asks, for the audit log.
        :param tenant_id: when given, only a passport of this tenant can be changed.
        :param superseded_by: id of the successor, for ``superseded``.
        :param reason: free text kept in the audit log.
        :returns: the changed passport.
        :raises NotFound: for an unknown passport (or one of another tenant).
        :raises Conflict: for a change :data:`TRANSITIONS` does not allow.
        """
        if status not in TRANSITIONS:
            raise InvalidInput(f"status must be one of {', '.join(TRANSITIONS)}", pointer="/status")
        row = self._row(passport_id, tenant_id, lock=True)
        if status not in TRANSITIONS[row.status]:
            raise Conflict(
                f"passport {passport_id} is {row.status}; it cannot become {status}",
                pointer="/status",
            )
        previous = row.status
        row.status = status
        if status == "superseded":
            row.superseded_by = superseded_by
        lists = StatusLists(self.session)
        for cred in self.credentials(passport_id):
            if cred.status_list_id is not None and cred.status_index is not None:
                purpose = lists.get(cred.status_list_id).purpose
                lists.set_bit(cred.status_list_id, cred.status_index, status_bit(purpose, status))
        self.session.flush()
        data: dict[str, Any] = {"from": previous, "to": status}
        if superseded_by is not None:
            data["superseded_by"] = superseded_by
        if reason is not None:
            data["reason"] = reason
        AuditLog(self.session).append(actor, f"passport.{status}", passport_id, data)
        return _passport(row)

    def by_idempotency_key(self, tenant_id: int, key: str) -> StoredPassport | None:
        """The passport a tenant stored under an idempotency key.

        :param tenant_id: the tenant.
        :param key: the idempotency key.
        :returns: the passport, or ``None``.
        """
        row = self._by_idempotency_key(tenant_id, key)
        return None if row is None else _passport(row)

    def _repeat(self, earlier: tables.Passport, digest: str, key: str) -> SaveResult:
        if earlier.record_sha256 != digest:
            raise Conflict(
                f"idempotency key {key!r} was already used for a different record",
                pointer="/idempotency_key",
            )
        return SaveResult(_passport(earlier), tuple(self.credentials(earlier.id)), False)

    def _by_idempotency_key(self, tenant_id: int, key: str) -> tables.Passport | None:
        return self.session.scalar(
            select(tables.Passport).where(
                tables.Passport.tenant_id == tenant_id, tables.Passport.idempotency_key == key
            )
        )

    def _row(self, passport_id: str, tenant_id: int | None, lock: bool = False) -> tables.Passport:
        query = select(tables.Passport).where(tables.Passport.id == passport_id)
        if tenant_id is not None:
            query = query.where(tables.Passport.tenant_id == tenant_id)
        if lock:
            query = query.with_for_update()
        row = self.session.scalar(query)
        if row is None:
            # Another tenant's passport reads as absent: its existence is not ours to tell.
            raise NotFound(f"no passport {passport_id}", pointer="/id")
        return row
