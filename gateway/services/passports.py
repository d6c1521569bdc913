"""Passports in the store: read by role, list, gap reports, change status.

Issuing them is :mod:`gateway.services.issuance`.
"""

from __future__ import annotations

import json
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.credentials.claims import credential_claims, status_entries
from gateway.credentials.status_list import SUPERSEDED_PREFIX
from gateway.errors import InvalidInput, NotFound
from gateway.services.instance import Instance, status_registry
from gateway.store import Passports
from gateway.store.passports import StoredCredential, StoredPassport, status_bit
from gateway.store.status_adapter import DatabaseStatusListStore

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
        try:
            return Passports(session).get(instance.passport_id(code))
        except NotFound:
            raise NotFound(f"no passport for battery code {code!r}", pointer="code") from None


def passport_credentials(
    instance: Instance, code: str, principal: Principal | None
) -> tuple[StoredPassport, dict[str, dict[str, Any] | str]]:
    """A passport's credentials of the access groups the caller may read (Annex XIII).

    :param code: the battery code.
    :param principal: the caller, ``None`` when anonymous (public group only).
    :returns: the passport and its visible credentials by access group.
    :raises NotFound: no passport for this code.
    """
    with instance.db.reading() as session:
        try:
            passport = Passports(session).get(instance.passport_id(code))
        except NotFound:
            raise NotFound(f"no passport for battery code {code!r}", pointer="code") from None
        groups = auth.visible_groups(principal, passport.tenant_id)
        creds = Passports(session).credentials(passport.id, groups)
    return passport, {c.access_group: stored_credential(c) for c in creds}


def passport_gaps(instance: Instance, code: str, principal: Principal | None) -> dict[str, Any]:
    """A passport's gap report, for the exporter that issued it, authorities and admins.

    :raises Unauthorized: no caller. :raises Forbidden: anyone else.
    :raises NotFound: no passport for this code.
    """
    passport = find_passport(instance, code)
    sees_all = auth.visible_groups(principal, passport.tenant_id) == auth.OWNER_GROUPS
    auth.require(principal, sees_all, "read another tenant's gap report")
    return passport.gaps


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


def passport_summary(passport: StoredPassport) -> dict[str, Any]:
    """One line of a passport list, as the API and the CLI show it."""
    return {
        "id": passport.id,
        "batteryCode": passport.battery_code,
        "status": passport.status,
        "category": passport.category,
        "mapping": f"{passport.mapping_set}@{passport.mapping_version}",
        "createdAt": passport.created_at.isoformat().replace("+00:00", "Z"),
        "supersededBy": passport.superseded_by,
    }
