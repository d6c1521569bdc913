"""Passports in the store: read as far as the caller is entitled, list, gap reports,
change status.

Issuing them is :mod:`gateway.services.issuance`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gateway import auth
from gateway.access import disclosure
from gateway.auth import Principal
from gateway.credentials.claims import credential_claims, status_entries
from gateway.credentials.status_list import SUPERSEDED_PREFIX
from gateway.errors import InvalidInput, NotFound
from gateway.policy.identifiers import check_export, identifying_values
from gateway.services import access
from gateway.services.access import Entitlement
from gateway.services.instance import Instance, status_registry
from gateway.services.registry import passport_facts
from gateway.store import Passports
from gateway.store.passports import StoredCredential, StoredPassport, status_bit
from gateway.store.registrations import Registrations
from gateway.store.status_adapter import DatabaseStatusListStore
from gateway.store.tables import utcnow
from gateway.transform.measurements import measured_at

if TYPE_CHECKING:
    from gateway.transform.aas import AasExport

#: Passport status changes by action name.
STATUS_ACTIONS = {
    "revoke": "revoked",
    "suspend": "suspended",
    "unsuspend": "active",
    "supersede": "superseded",
}


def stored_credential(stored: StoredCredential) -> dict[str, Any] | str:
    """A stored credential as it was issued: a dict for Data Integrity, the compact JWS
    text for ``vc+jwt``."""
    if stored.format == "jwt":
        return stored.body
    body: dict[str, Any] = json.loads(stored.body)
    return body


def find_passport(instance: Instance, code: str) -> StoredPassport:
    """The passport of a battery code.

    :raises NotFound: there is none.
    """
    with instance.db.reading() as session:
        return instance.passport(session, code)


@dataclass(frozen=True)
class PassportView:
    """What one caller gets of a passport.

    :ivar credentials: the credentials of the sections it may read, by section.
    :ivar entitlement: why: the points, their basis and the access table used.
    """

    passport: StoredPassport
    credentials: dict[str, dict[str, Any] | str]
    entitlement: Entitlement


def passport_view(
    instance: Instance, code: str, principal: Principal | None, *, channel: str = disclosure.API
) -> PassportView:
    """A passport's credentials of the sections the caller may read (Annex XIII, by the
    access table in force and the caller's grants), the read recorded in the disclosure
    log when it gives point 2, 3 or 4 data to a party other than the issuing tenant.

    :param code: the battery code.
    :param principal: the caller, ``None`` when anonymous (point 1 only).
    :param channel: how the data leaves, for the disclosure log
        (:data:`gateway.access.disclosure.CHANNELS`).
    :raises NotFound: no passport for this code.
    """
    with instance.db.reading() as session:
        passport = instance.passport(session, code)
        granted = access.entitlement(session, passport, principal, utcnow())
        creds = [
            c
            for c in Passports(session).credentials(passport.id)
            if granted.may_read(c.access_group)
        ]
    credentials = {c.access_group: stored_credential(c) for c in creds}
    access.record_disclosure(instance, passport, principal, granted, credentials, channel)
    return PassportView(passport, credentials, granted)


def passport_credentials(
    instance: Instance, code: str, principal: Principal | None, *, channel: str = disclosure.API
) -> tuple[StoredPassport, dict[str, dict[str, Any] | str]]:
    """The passport and the credentials of :func:`passport_view`, by section.

    :raises NotFound: no passport for this code.
    """
    view = passport_view(instance, code, principal, channel=channel)
    return view.passport, view.credentials


def passport_aas(
    instance: Instance, code: str, principal: Principal | None, *, channel: str = disclosure.API
) -> AasExport:
    """The Asset Administration Shell of what the caller may read of a passport: the
    sections of :func:`passport_view` (same entitlement, same disclosure log), with the
    passport's live EN 18223 metadata and, for its dynamic values, the time the record
    says they were measured (unless the data policy kept that time in China).

    :raises NotFound: no passport for this code.
    """
    view = passport_view(instance, code, principal, channel=channel)
    passport = view.passport
    subjects: dict[str, Mapping[str, Any]] = {}
    for name, credential in view.credentials.items():
        subject = credential_claims(credential).get("credentialSubject")
        if isinstance(subject, Mapping):
            subjects[name] = subject
    with instance.db.reading() as session:
        facts = passport_facts(session, passport)
    # The paths the data policy kept in China at issue (the gap report's policy block).
    policy = passport.gaps.get("policy")
    withheld = policy.get("withheld") if isinstance(policy, dict) else None
    kept = [p for p in withheld if isinstance(p, str)] if isinstance(withheld, list) else []
    measured = measured_at(passport.record, kept)
    # Imported here: basyx is loaded by the processes that export a shell.
    from gateway.transform.aas import export_aas, subjects_view

    export = export_aas(subjects_view(facts, passport.battery_code, subjects, measured))
    # The second line of the export check (the first ran before the passport was signed).
    check_export("AAS export", export.to_json(), identifying_values(passport.record))
    return export


def passport_gaps(instance: Instance, code: str, principal: Principal | None) -> dict[str, Any]:
    """A passport's gap report, for the exporter that issued it and admins (whole) and
    authorities (the rows of the points they may read), naming the access table and the
    caller's entitlement under ``access``.

    :raises Unauthorized: no caller. :raises Forbidden: anyone else.
    :raises NotFound: no passport for this code.
    """
    auth.require(principal, True, "read a gap report")
    with instance.db.reading() as session:
        passport = instance.passport(session, code)
        granted = access.entitlement(session, passport, principal, utcnow())
    auth.require(principal, access.may_inspect(granted), "read another tenant's gap report")
    return {**access.readable_gaps(passport.gaps, granted), "access": granted.as_json()}


def list_passports(
    instance: Instance,
    principal: Principal | None,
    *,
    status: str | None = None,
    battery_code: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[StoredPassport]:
    """Passports the caller may list (see :func:`gateway.auth.list_scope`), a page at a time.

    :raises Unauthorized: no caller.
    """
    caller = auth.require(principal, True, "list passports")
    with instance.db.reading() as session:
        return Passports(session).listing(
            auth.list_scope(caller),
            status=status,
            battery_code=battery_code,
            after=instance.passport_id(after) if after else None,
            limit=limit,
        )


def change_status(
    instance: Instance,
    code: str,
    action: str,
    principal: Principal | None,
    *,
    successor: str | None = None,
    reason: str | None = None,
) -> StoredPassport:
    """Revoke, suspend, unsuspend or supersede a passport and flip the status list bits
    of every credential it has, in one unit of work.

    :param action: a key of :data:`STATUS_ACTIONS`.
    :param successor: the battery code of the passport that replaces it (``supersede``).
    :raises Unauthorized: no caller. :raises Forbidden: not the owner or an admin.
    :raises NotFound: no such passport, or no successor of the passport's own tenant.
    :raises Conflict: a change the passport's status does not allow.
    """
    status = STATUS_ACTIONS[action]
    passport = find_passport(instance, code)
    caller = auth.require(
        principal, auth.may_change_status(principal, passport.tenant_id), f"{action} this passport"
    )
    successor_id = None
    if status == "superseded":
        if not successor:
            raise InvalidInput("supersede names the successor's battery code", pointer="/successor")
        if successor == code:
            raise InvalidInput("a passport cannot supersede itself", pointer="/successor")
        try:
            found = find_passport(instance, successor)
        except NotFound:
            found = None
        # A successor of another tenant answers exactly as an unknown one: one maker's
        # passport must neither replace another's nor reveal that it exists.
        if found is None or found.tenant_id != passport.tenant_id:
            raise NotFound(f"no passport for successor {successor!r}", pointer="/successor")
        successor_id = found.id
    with instance.db.transaction() as session:
        passports = Passports(session)
        changed = passports.set_status(
            passport.id, status, auth.audit_actor(caller), superseded_by=successor_id, reason=reason
        )
        registry = status_registry(instance, DatabaseStatusListStore(session))
        note = f"{SUPERSEDED_PREFIX}{successor_id}" if successor_id else status
        for stored in passports.credentials(passport.id):
            for item in status_entries(credential_claims(stored_credential(stored))):
                purpose = str(item.get("statusPurpose"))
                bit = status_bit(purpose, status)
                registry.set_status({"credentialStatus": item}, purpose, bit, note if bit else "")
    return changed


#: How far ahead of UTC a recycling date may lie: the records are dated in China (UTC+8).
_RECORD_OFFSET = timedelta(hours=8)


def recycling_day(value: object, pointer: str = "/recycledOn") -> date:
    """The day a battery was recycled, as the API and the CLI take it: ``YYYY-MM-DD``,
    not after today in China.

    :raises InvalidInput: anything else.
    """
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        raise InvalidInput("the recycling date must be a date YYYY-MM-DD", pointer=pointer)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "the recycling date must be a date YYYY-MM-DD", pointer=pointer
        ) from None
    if day > (datetime.now(UTC) + _RECORD_OFFSET).date():
        raise InvalidInput("the recycling date lies in the future", pointer=pointer)
    return day


def cease_passport(
    instance: Instance,
    code: str,
    principal: Principal | None,
    *,
    recycled_on: object,
    reason: str | None = None,
) -> tuple[StoredPassport, bool]:
    """Record that a passport ceased to exist because its battery was recycled (Art.
    77(8) of Regulation (EU) 2023/1542), audited. The passport is kept and shown as
    ceased; its credentials stay valid as what was true when they were signed.

    :param recycled_on: the day the battery was recycled (``YYYY-MM-DD``).
    :returns: the passport, and whether this call ceased it (``False``: it had already
        ceased on that day).
    :raises Unauthorized: no caller. :raises Forbidden: not the owner or an admin.
    :raises NotFound: no such passport. :raises InvalidInput: a bad date.
    :raises Conflict: a passport that is not active, or ceased on another day.
    """
    day = recycling_day(recycled_on)
    passport = find_passport(instance, code)
    caller = auth.require(
        principal, auth.may_change_status(principal, passport.tenant_id), "cease this passport"
    )
    with instance.db.transaction() as session:
        return Passports(session).cease(passport.id, day, auth.audit_actor(caller), reason=reason)


def passport_summaries(
    instance: Instance, principal: Principal | None, passports: list[StoredPassport]
) -> list[dict[str, Any]]:
    """The lines of a passport list (:func:`passport_summary`), each of the caller's own
    passports (an admin: any) with the EU registry registrations recorded for it, oldest
    first; others' passports without (registrations are their issuer's business).
    """
    owned = [p for p in passports if principal is not None and _registrar_of(principal, p)]
    found: dict[str, list[dict[str, Any]]] = {}
    if owned:
        with instance.db.reading() as session:
            registrations = Registrations(session)
            for passport_id, _ in sorted(registrations.registered([p.id for p in owned])):
                if passport_id not in found:
                    found[passport_id] = [
                        r.as_json() for r in registrations.for_passport(passport_id)
                    ]
    owned_ids = {p.id for p in owned}
    return [
        passport_summary(p, found.get(p.id, []) if p.id in owned_ids else None) for p in passports
    ]


def _registrar_of(principal: Principal, passport: StoredPassport) -> bool:
    if principal.role == auth.ADMIN:
        return True
    return principal.role == auth.EXPORTER and principal.tenant_id == passport.tenant_id


def passport_status(passport: StoredPassport) -> dict[str, Any]:
    """A passport's state after a status change, as the API and the CLI show it."""
    return {
        "id": passport.id,
        "batteryCode": passport.battery_code,
        "status": passport.status,
        "supersededBy": passport.superseded_by,
        "ceasedOn": passport.ceased_on.isoformat() if passport.ceased_on else None,
    }


def passport_summary(
    passport: StoredPassport, registrations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One line of a passport list, as the API and the CLI show it.

    :param registrations: the EU registry registrations recorded for it, when the
        reader may see them (left out otherwise).
    """
    extra = {} if registrations is None else {"registrations": registrations}
    return {
        "id": passport.id,
        "batteryCode": passport.battery_code,
        "status": passport.status,
        "category": passport.category,
        "mapping": f"{passport.mapping_set}@{passport.mapping_version}",
        "createdAt": passport.created_at.isoformat().replace("+00:00", "Z"),
        "supersededBy": passport.superseded_by,
        "ceasedOn": passport.ceased_on.isoformat() if passport.ceased_on else None,
        **extra,
    }
