"""EU registry registrations recorded by operators, and tenants' registration defaults.

The registry answers a registration with an identifier and a proof of registration under
a qualified electronic seal; an operator records both here, once per passport version
(``registry.recorded``). A tenant's defaults fill what its records do not say
(``registry.profile_set``). Both are audited in the unit of work that stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import Conflict
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.passports import StoredCredential, stored_credential
from gateway.store.tables import utcnow

_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class RegistryProfile:
    """A tenant's registration defaults; every field may be unset."""

    tenant_id: int
    economic_operator_id: str | None = None
    facility_id: str | None = None
    commodity_code: str | None = None
    backup_url_base: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "economicOperatorId": self.economic_operator_id,
            "facilityId": self.facility_id,
            "commodityCode": self.commodity_code,
            "backupUrlBase": self.backup_url_base,
            "updatedBy": self.updated_by,
            "updatedAt": self.updated_at.strftime(_TIMESTAMP) if self.updated_at else None,
        }


@dataclass(frozen=True)
class Registration:
    """One recorded registration.

    :ivar has_proof_file: whether the proof file itself is kept (else only its hash).
    """

    id: int
    passport_id: str
    tenant_id: int
    registration_id: str
    content_sha256: str
    proof_file_name: str
    proof_sha256: str
    has_proof_file: bool
    registered_at: datetime
    recorded_by: str
    recorded_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "passport": self.passport_id,
            "registrationId": self.registration_id,
            "contentSha256": self.content_sha256,
            "proof": {
                "fileName": self.proof_file_name,
                "sha256": self.proof_sha256,
                "kept": self.has_proof_file,
            },
            "registeredAt": self.registered_at.strftime(_TIMESTAMP),
            "recordedBy": self.recorded_by,
            "recordedAt": self.recorded_at.strftime(_TIMESTAMP),
        }


@dataclass(frozen=True)
class NewRegistration:
    """What an operator records; ``proof`` is the file, when handed over."""

    passport_id: str
    tenant_id: int
    registration_id: str
    content_sha256: str
    proof_file_name: str
    proof_sha256: str
    registered_at: datetime
    proof: bytes | None = None


def _registration(row: tables.RegistryRegistration) -> Registration:
    return Registration(
        id=row.id,
        passport_id=row.passport_id,
        tenant_id=row.tenant_id,
        registration_id=row.registration_id,
        content_sha256=row.content_sha256,
        proof_file_name=row.proof_file_name,
        proof_sha256=row.proof_sha256,
        has_proof_file=row.proof is not None,
        registered_at=row.registered_at,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


class Registrations:
    """Registrations and registration defaults, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- defaults ----------------------------------------------------------------------

    def profile(self, tenant_id: int) -> RegistryProfile:
        """A tenant's defaults (all unset when it never set any)."""
        row = self.session.get(tables.RegistryProfile, tenant_id)
        if row is None:
            return RegistryProfile(tenant_id)
        return RegistryProfile(
            row.tenant_id,
            row.economic_operator_id,
            row.facility_id,
            row.commodity_code,
            row.backup_url_base,
            row.updated_by,
            row.updated_at,
        )

    def set_profile(
        self, profile: RegistryProfile, tenant_name: str, actor: str
    ) -> RegistryProfile:
        """Replace a tenant's defaults (audited as ``registry.profile_set``)."""
        row = self.session.get(tables.RegistryProfile, profile.tenant_id)
        if row is None:
            row = tables.RegistryProfile(tenant_id=profile.tenant_id, updated_by=actor)
            self.session.add(row)
        row.economic_operator_id = profile.economic_operator_id
        row.facility_id = profile.facility_id
        row.commodity_code = profile.commodity_code
        row.backup_url_base = profile.backup_url_base
        row.updated_by = actor
        row.updated_at = utcnow()
        self.session.flush()
        stored = self.profile(profile.tenant_id)
        data = {k: v for k, v in stored.as_json().items() if k not in ("updatedBy", "updatedAt")}
        AuditLog(self.session).append(actor, "registry.profile_set", f"tenant:{tenant_name}", data)
        return stored

    # -- registrations -------------------------------------------------------------------

    def record(self, new: NewRegistration, actor: str) -> Registration:
        """Store a registration (audited as ``registry.recorded``).

        :raises Conflict: this passport version already has one, or the tenant already
            used the registration id.
        """
        for clash, where in (
            (
                tables.RegistryRegistration.passport_id == new.passport_id,
                tables.RegistryRegistration.content_sha256 == new.content_sha256,
            ),
            (
                tables.RegistryRegistration.tenant_id == new.tenant_id,
                tables.RegistryRegistration.registration_id == new.registration_id,
            ),
        ):
            found = self.session.scalar(select(tables.RegistryRegistration.id).where(clash, where))
            if found is not None:
                raise Conflict(
                    f"registration {found} already records this passport version or "
                    "this registration id",
                    pointer="/registrationId",
                )
        row = tables.RegistryRegistration(
            passport_id=new.passport_id,
            tenant_id=new.tenant_id,
            registration_id=new.registration_id,
            content_sha256=new.content_sha256,
            proof_file_name=new.proof_file_name,
            proof_sha256=new.proof_sha256,
            proof=new.proof,
            registered_at=new.registered_at,
            recorded_by=actor,
            recorded_at=utcnow(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError as exc:  # a concurrent record of the same version won
            raise Conflict(
                "this passport version or registration id is already recorded",
                pointer="/registrationId",
            ) from exc
        stored = _registration(row)
        data = {k: v for k, v in stored.as_json().items() if k not in ("recordedBy", "recordedAt")}
        AuditLog(self.session).append(actor, "registry.recorded", new.passport_id, data)
        return stored

    def for_passport(self, passport_id: str) -> list[Registration]:
        """A passport's registrations, oldest first."""
        rows = self.session.scalars(
            select(tables.RegistryRegistration)
            .where(tables.RegistryRegistration.passport_id == passport_id)
            .order_by(tables.RegistryRegistration.id)
        )
        return [_registration(r) for r in rows]

    def registered(self, passport_ids: Sequence[str]) -> set[tuple[str, str]]:
        """``(passport id, content hash)`` of the registrations of these passports."""
        if not passport_ids:
            return set()
        rows = self.session.execute(
            select(
                tables.RegistryRegistration.passport_id,
                tables.RegistryRegistration.content_sha256,
            ).where(tables.RegistryRegistration.passport_id.in_(list(passport_ids)))
        )
        return {(p, h) for p, h in rows}

    def public_credentials(
        self, passport_ids: Sequence[str], sections: Sequence[str]
    ) -> dict[str, StoredCredential]:
        """For each passport, its first credential of ``sections`` (in that order of
        preference): the public section a registration hashes, fetched for a page of
        passports in one query."""
        if not passport_ids:
            return {}
        rows = self.session.scalars(
            select(tables.Credential).where(
                tables.Credential.passport_id.in_(list(passport_ids)),
                tables.Credential.access_group.in_(list(sections)),
            )
        )
        found: dict[str, StoredCredential] = {}
        rank = {s: i for i, s in enumerate(sections)}
        for row in sorted(rows, key=lambda r: (rank[r.access_group], r.format)):
            found.setdefault(row.passport_id, stored_credential(row))
        return found
