"""Passports and their credentials.

A passport and all of its credentials are saved in one go or not at all (DESIGN §5
Errors), together with the audit event that records the issue. An idempotency key makes
a retried request return what the first one stored instead of a second passport.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from gateway.annex_xiii import ALL_SECTIONS, is_section
from gateway.credentials.formats import PROOF_FORMATS
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.policy.identifiers import identifying_values
from gateway.store import tables
from gateway.store.audit import AuditLog, NewEvent, canonical_bytes
from gateway.store.encryption import (
    LASTING,
    KeyUnavailable,
    credential_binding,
    is_restricted,
    production_batch,
    sealer_of,
)
from gateway.store.gap_reports import pack, unpack
from gateway.store.status_lists import StatusLists

_PASSPORTS = cast(Table, tables.Passport.__table__)
_CREDENTIALS = cast(Table, tables.Credential.__table__)
# Built once, run with bound values: a bulk issue asks these once per chunk.
_BY_KEYS = select(tables.Passport).where(
    tables.Passport.tenant_id == bindparam("tenant_id"),
    tables.Passport.idempotency_key.in_(bindparam("keys", expanding=True)),
)
_EXISTING = select(_PASSPORTS.c.id).where(_PASSPORTS.c.id.in_(bindparam("ids", expanding=True)))

# Status changes a passport may go through; revoked, superseded and ceased are final.
# Only an active passport ceases (Art. 77(8)): a suspension stays until its owner lifts
# it, since ceasing leaves every status bit clear (see :func:`status_bit`).
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"revoked", "suspended", "superseded", "ceased"}),
    "suspended": frozenset({"active", "revoked", "superseded"}),
    "revoked": frozenset(),
    "superseded": frozenset(),
    "ceased": frozenset(),
}


def status_bit(purpose: str, status: str) -> bool:
    """The bit a credential's status list entry carries for a passport status.

    A credential has one status entry. A revocation entry is set once the passport is
    revoked or superseded (Art. 77(7): the original passport is replaced); a suspension
    entry is set whenever the passport is not active, so a credential that has only a
    suspension entry still reads as invalid after revocation. A ceased passport (Art.
    77(8): the battery was recycled) sets neither: its credentials stay valid as what was
    true when they were signed, and readers are told it ceased by the passport itself.

    :param purpose: the list's ``statusPurpose``.
    :param status: the passport status.
    :returns: the bit.
    """
    if purpose == "revocation":
        return status in ("revoked", "superseded")
    return status not in ("active", "ceased")


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
class NewIssue:
    """A passport to store with its credentials and what its issue discloses.

    :ivar disclosure: what the passport discloses and what the cross-border policy kept
        back (field names only), kept in its ``passport.issued`` audit event.
    """

    passport: NewPassport
    credentials: Sequence[NewCredential]
    disclosure: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredCredential:
    """A stored credential. Its body is opened when read; one whose data key cannot be
    opened (a lost or wrong key-encryption key) raises then, so listing a passport's
    credentials and serving those that need no key still work."""

    id: str
    passport_id: str
    access_group: str
    format: str
    opened: str | KeyUnavailable = field(repr=False)
    status_list_id: str | None
    status_index: int | None
    created_at: datetime

    @property
    def body(self) -> str:
        """The secured credential exactly as issued.

        :raises KeyUnavailable: it is sealed under a key that cannot be opened.
        """
        if isinstance(self.opened, KeyUnavailable):
            raise self.opened
        return self.opened


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
    #: Art. 77(8): the day the battery was recycled, and who recorded it when.
    ceased_on: date | None = None
    ceased_at: datetime | None = None
    ceased_by: str | None = None


@dataclass(frozen=True)
class SaveResult:
    """What :meth:`Passports.save` stored or found.

    :ivar created: ``False`` when an earlier request with the same idempotency key had
        already stored this passport.
    """

    passport: StoredPassport
    credentials: tuple[StoredCredential, ...]
    created: bool


def _passport(row: tables.Passport, record: dict[str, Any] | None = None) -> StoredPassport:
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
        record=stored_record(row) if record is None else record,
        gaps=unpack(object_session(row), row.gaps),
        created_at=row.created_at,
        idempotency_key=row.idempotency_key,
        ceased_on=row.ceased_on,
        ceased_at=row.ceased_at,
        ceased_by=row.ceased_by,
    )


class UnopenedRecord(dict[str, Any]):
    """The record of a passport whose data key cannot be opened (a lost or wrong
    key-encryption key): the passport itself still reads, any use of the record but its
    production batch raises the reason."""

    def __init__(self, reason: KeyUnavailable, *, batch: str | None = None) -> None:
        # Not empty: C code that reads a dict's size first (the json encoder writes an
        # empty one as "{}" without asking it for items) must reach the refusal too.
        super().__init__({"": None})
        self.reason = reason
        # What the store keeps in clear of it: the production batch (access grants).
        self._kept = {"production": {"batch": batch}} if batch is not None else {}

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise self.reason

    def get(self, key: str, default: Any = None) -> Any:
        """What is kept in clear (``production`` with its batch); anything else is
        refused, the record being unknown."""
        if key == "production":
            return self._kept.get(key, default)
        raise self.reason

    __getitem__ = __iter__ = __len__ = __contains__ = _refuse
    keys = items = values = copy = _refuse


def _binding(passport_id: str, tenant_id: int) -> dict[str, Any]:
    return {"table": "passports", "row_id": passport_id, "tenant_id": tenant_id}


def stored_record(row: tables.Passport) -> dict[str, Any]:
    """A passport row's national record, opened (records stored before encryption
    at rest are read as they are until ``gateway keys encrypt-store`` seals them).

    :returns: the record (after a retention purge: only what is kept in clear), or an
        :class:`UnopenedRecord` when it cannot be opened.
    """
    if row.record_sealed is None:
        if row.record is None:
            # Purged by retention: it holds nothing any more but what the store keeps in
            # clear, and reads as such (faces that show the passport go on working).
            batch = row.production_batch
            return {"production": {"batch": batch}} if batch is not None else {}
        return row.record
    session = object_session(row)
    try:
        if session is None:
            raise KeyUnavailable(f"passport {row.id} was read outside a unit of work")
        opened: dict[str, Any] = sealer_of(session).open(
            session, row.record_sealed, **_binding(row.id, row.tenant_id)
        )
    except KeyUnavailable as exc:
        return UnopenedRecord(exc, batch=row.production_batch)
    return opened


def credential_body(row: tables.Credential) -> str:
    """A credential row's body, opened if sealed.

    :raises KeyUnavailable: its data key cannot be opened (lost or wrong KEK).
    """
    if row.body_sealed is None:
        if row.body is None:
            raise KeyUnavailable(f"credential {row.id} has no body")
        return row.body
    session = object_session(row)
    if session is None:
        raise KeyUnavailable(f"credential {row.id} was read outside a unit of work")
    passport = session.get(tables.Passport, row.passport_id)
    if passport is None:
        raise KeyUnavailable(f"credential {row.id} has no passport")
    body = sealer_of(session).open(
        session,
        row.body_sealed,
        **credential_binding(row.passport_id, row.id),
        tenant_id=passport.tenant_id,
    )
    if not isinstance(body, str):
        raise KeyUnavailable(f"credential {row.id}: the sealed body is not a credential")
    return body


def _opened(row: tables.Credential) -> str | KeyUnavailable:
    try:
        return credential_body(row)
    except KeyUnavailable as exc:
        return exc


def refuse_identifiers(row: tables.Passport, text: str, pointer: str) -> None:
    """Refuse free text bound for the audit log that holds one of the passport record's
    identifiers (VIN, owner, location, certificate number), which are never stored in
    clear. A record that cannot be opened is not searched: a revocation must still go
    through while a key-encryption key is being restored.

    :raises InvalidInput: naming the field and the record path, never the value.
    """
    record = stored_record(row)
    if isinstance(record, UnopenedRecord):
        return
    for value, path in identifying_values(record).items():
        if value in text:
            raise InvalidInput(
                f"{pointer[1:]} holds the record's {path}, which is never stored in clear",
                pointer=pointer,
            )


def stored_credential(row: tables.Credential, body: str | None = None) -> StoredCredential:
    """A credential row as the store hands it out (its body opened if sealed).

    :param body: the body, when the caller has it in clear (it just stored it).
    """
    return StoredCredential(
        id=row.id,
        passport_id=row.passport_id,
        access_group=row.access_group,
        format=row.format,
        opened=_opened(row) if body is None else body,
        status_list_id=row.status_list_id,
        status_index=row.status_index,
        created_at=row.created_at,
    )


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON.

    :param record: the national record as stored.
    :returns: hex digest.
    """
    return hashlib.sha256(canonical_bytes(record, "/record")).hexdigest()


def _issued(
    passport: NewPassport,
    credentials: Sequence[NewCredential],
    digest: str,
    disclosure: dict[str, Any] | None,
) -> dict[str, Any]:
    """The data of a ``passport.issued`` event: what was stored, and what its issue
    discloses (one event per passport)."""
    data: dict[str, Any] = {
        "tenant_id": passport.tenant_id,
        "battery_code": passport.battery_code,
        "mapping": f"{passport.mapping_set}@{passport.mapping_version}",
        "mapping_hash": passport.mapping_hash,
        "record_sha256": digest,
        "credentials": [c.id for c in credentials],
    }
    if disclosure is not None:
        data["disclosure"] = disclosure
    return data


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
        self,
        passport: NewPassport,
        credentials: Sequence[NewCredential],
        actor: str,
        *,
        disclosure: dict[str, Any] | None = None,
    ) -> SaveResult:
        """Store a passport with all its credentials, or nothing.

        With a ``predecessor_id`` (second life, Art. 77(7)) the predecessor is marked
        ``superseded`` in the same unit of work.

        :param passport: the passport.
        :param credentials: its signed credentials.
        :param actor: who issues it, for the audit log.
        :param disclosure: what its issue discloses, kept in the audit event (see
            :class:`NewIssue`).
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
            production_batch=production_batch(passport.record),
            gaps=pack(self.session, passport.gaps),
            idempotency_key=passport.idempotency_key,
        )
        # Sealed before it is added: nothing identifying reaches the database in clear.
        row.record_sealed = sealer_of(self.session).seal(
            self.session, passport.record, **_binding(passport.id, passport.tenant_id)
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
        sealer = sealer_of(self.session)
        creds = []
        for c in credentials:
            cred = tables.Credential(
                id=c.id,
                passport_id=row.id,
                access_group=c.access_group,
                format=c.format,
                body=c.body,
                status_list_id=c.status_list_id,
                status_index=c.status_index,
            )
            if is_restricted(c.access_group):
                cred.body_sealed = sealer.seal(
                    self.session,
                    c.body,
                    **credential_binding(passport.id, c.id),
                    tenant_id=passport.tenant_id,
                    period=LASTING,
                )
                cred.body = None
            creds.append(cred)
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
            _issued(passport, credentials, digest, disclosure),
        )
        bodies = {c.id: c.body for c in credentials}
        stored = _passport(row, passport.record)
        return SaveResult(
            replace(stored, gaps=passport.gaps),
            tuple(stored_credential(c, bodies[c.id]) for c in creds),
            True,
        )

    def save_many(self, issues: Sequence[NewIssue], actor: str) -> list[SaveResult]:
        """Store passports with their credentials, identifiers aside, in one multi-row
        insert per table and one ``passport.issued`` event each; all or nothing.

        The caller has already asked :meth:`by_idempotency_keys` and :meth:`existing`
        in this chunk; a passport or key that another writer stored since then fails the
        whole unit of work, and the caller then stores the passports one at a time
        (:meth:`save`), which answers each by itself.

        :raises InvalidInput: for a bad credential field.
        :raises Conflict: a passport, idempotency key or status entry clashes with
            stored data.
        :raises NotFound: when a predecessor does not exist.
        """
        now = tables.utcnow()
        sealer = sealer_of(self.session)
        passport_rows: list[dict[str, Any]] = []
        credential_rows: list[dict[str, Any]] = []
        events: list[NewEvent] = []
        results: list[SaveResult] = []
        for issue in issues:
            passport = issue.passport
            _check_credentials(issue.credentials)
            digest = passport.record_sha256 or record_hash(passport.record)
            passport_rows.append(
                {
                    "id": passport.id,
                    "battery_code": passport.battery_code,
                    "tenant_id": passport.tenant_id,
                    "category": passport.category,
                    "status": "active",
                    "superseded_by": None,
                    "predecessor_id": passport.predecessor_id,
                    "mapping_set": passport.mapping_set,
                    "mapping_version": passport.mapping_version,
                    "mapping_hash": passport.mapping_hash,
                    "record_sha256": digest,
                    "record": None,
                    # Sealed before it is written: nothing identifying reaches the
                    # database in clear.
                    "record_sealed": sealer.seal(
                        self.session,
                        passport.record,
                        **_binding(passport.id, passport.tenant_id),
                    ),
                    "production_batch": production_batch(passport.record),
                    "gaps": pack(self.session, passport.gaps),
                    "created_at": now,
                    "idempotency_key": passport.idempotency_key,
                }
            )
            stored_credentials = []
            for c in issue.credentials:
                sealed = (
                    sealer.seal(
                        self.session,
                        c.body,
                        **credential_binding(passport.id, c.id),
                        tenant_id=passport.tenant_id,
                        period=LASTING,
                    )
                    if is_restricted(c.access_group)
                    else None
                )
                credential_rows.append(
                    {
                        "id": c.id,
                        "passport_id": passport.id,
                        "access_group": c.access_group,
                        "format": c.format,
                        "body": None if sealed is not None else c.body,
                        "body_sealed": sealed,
                        "status_list_id": c.status_list_id,
                        "status_index": c.status_index,
                        "created_at": now,
                    }
                )
                stored_credentials.append(
                    StoredCredential(
                        id=c.id,
                        passport_id=passport.id,
                        access_group=c.access_group,
                        format=c.format,
                        opened=c.body,
                        status_list_id=c.status_list_id,
                        status_index=c.status_index,
                        created_at=now,
                    )
                )
            events.append(
                NewEvent(
                    actor,
                    "passport.issued",
                    passport.id,
                    _issued(passport, issue.credentials, digest, issue.disclosure),
                )
            )
            results.append(
                SaveResult(
                    StoredPassport(
                        id=passport.id,
                        battery_code=passport.battery_code,
                        tenant_id=passport.tenant_id,
                        category=passport.category,
                        status="active",
                        superseded_by=None,
                        predecessor_id=passport.predecessor_id,
                        mapping_set=passport.mapping_set,
                        mapping_version=passport.mapping_version,
                        mapping_hash=passport.mapping_hash,
                        record_sha256=digest,
                        record=passport.record,
                        gaps=passport.gaps,
                        created_at=now,
                        idempotency_key=passport.idempotency_key,
                    ),
                    tuple(stored_credentials),
                    True,
                )
            )
        if not issues:
            return results
        try:
            self.session.execute(insert(_PASSPORTS), passport_rows)
            if credential_rows:
                self.session.execute(insert(_CREDENTIALS), credential_rows)
        except IntegrityError as exc:
            raise Conflict(
                f"a passport of this chunk clashes with stored data: {exc.orig}"
            ) from exc
        for issue in issues:
            if issue.passport.predecessor_id is not None:
                self.set_status(
                    issue.passport.predecessor_id,
                    "superseded",
                    actor,
                    superseded_by=issue.passport.id,
                )
        AuditLog(self.session).append_many(events)
        return results

    def by_idempotency_keys(self, tenant_id: int, keys: Iterable[str]) -> dict[str, StoredPassport]:
        """The passports a tenant stored under some idempotency keys, by key; one query.

        :param tenant_id: the tenant.
        :param keys: the idempotency keys.
        :returns: the passports found.
        """
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = self.session.scalars(_BY_KEYS, {"tenant_id": tenant_id, "keys": wanted})
        return {r.idempotency_key: _passport(r) for r in rows if r.idempotency_key is not None}

    def existing(self, passport_ids: Iterable[str]) -> set[str]:
        """Which of these passports are stored (of any tenant: a battery has one
        passport across the instance); one query.

        :param passport_ids: the ids.
        :returns: those stored.
        """
        wanted = sorted(set(passport_ids))
        if not wanted:
            return set()
        return set(self.session.scalars(_EXISTING, {"ids": wanted}))

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
        if reason is not None:
            refuse_identifiers(row, reason, "/reason")
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

    def cease(
        self,
        passport_id: str,
        recycled_on: date,
        actor: str,
        *,
        tenant_id: int | None = None,
        reason: str | None = None,
    ) -> tuple[StoredPassport, bool]:
        """Record that a passport ceased to exist because its battery was recycled (Art.
        77(8)), in the audit log too. The passport is kept; no status bit changes.

        :param recycled_on: the day the battery was recycled.
        :param actor: who records it, for the audit log.
        :param tenant_id: when given, only a passport of this tenant can cease.
        :param reason: free text kept in the audit log.
        :returns: the passport, and whether this call ceased it (``False``: it had already
            ceased on that day).
        :raises NotFound: for an unknown passport (or one of another tenant).
        :raises Conflict: a passport that is not active, or ceased on another day.
        """
        row = self._row(passport_id, tenant_id, lock=True)
        if row.status == "ceased" and row.ceased_on == recycled_on:
            return _passport(row), False
        if "ceased" not in TRANSITIONS[row.status]:
            on = f" on {row.ceased_on.isoformat()}" if row.ceased_on else ""
            raise Conflict(
                f"passport {passport_id} is {row.status}{on}; it cannot cease",
                pointer="/status",
            )
        previous = row.status
        row.status = "ceased"
        row.ceased_on = recycled_on
        row.ceased_at = tables.utcnow()
        row.ceased_by = actor
        self.session.flush()
        data: dict[str, Any] = {"from": previous, "to": "ceased", "recycled_on": str(recycled_on)}
        if reason is not None:
            data["reason"] = reason
        AuditLog(self.session).append(actor, "passport.ceased", passport_id, data)
        return _passport(row), True

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
