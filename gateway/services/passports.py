"""Passports in the store: issue, read by role, list, change status."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.credentials.status_list import (
    SUPERSEDED_PREFIX,
)
from gateway.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from gateway.services.conversion import PROOF_FORMATS, draft_passport, sign_passport
from gateway.services.instance import Instance, StatusPool, status_registry
from gateway.services.whitelist import instance_whitelist
from gateway.store import AuditLog, Passports, Tenants
from gateway.store.passports import (
    NewCredential,
    NewPassport,
    StoredCredential,
    StoredPassport,
    record_hash,
    status_bit,
)
from gateway.store.status_adapter import DatabaseStatusListStore

#: Longest idempotency key accepted (the column's width, less room for a line suffix).
MAX_IDEMPOTENCY_KEY = 200
#: Passport status changes by action name.
STATUS_ACTIONS = {
    "revoke": "revoked",
    "suspend": "suspended",
    "unsuspend": "active",
    "supersede": "superseded",
}
#: The ``key_id`` of a principal acting from the instance's console (``gateway`` CLI),
#: where the operator holds the database itself and no API key is involved.
CONSOLE_KEY_ID = 0


@dataclass(frozen=True)
class IssuedPassport:
    """A stored passport and its credentials.

    :ivar passport: the stored passport.
    :ivar credentials: by access group, the credential (a dict for Data Integrity, the
        compact JWS for ``vc+jwt``).
    :ivar created: ``False`` when an earlier request with the same idempotency key made it.
    """

    passport: StoredPassport
    credentials: dict[str, dict[str, Any] | str]
    created: bool


def _body(credential: dict[str, Any] | str) -> str:
    if isinstance(credential, str):
        return credential
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def _credential_of(stored: StoredCredential) -> dict[str, Any] | str:
    return stored.body if stored.format == "jwt" else json.loads(stored.body)


def credential_claims(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The claims of a credential this gateway issued: the dict itself, or the payload of
    its compact JWS (read without checking the signature: our own stored copy).

    :param credential: a Data Integrity credential or a compact JWS.
    :returns: the credential's claims.
    """
    if isinstance(credential, str):
        payload = credential.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return dict(credential)


def _entries(claims: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    status = claims.get("credentialStatus")
    items = status if isinstance(status, list) else [status] if status else []
    return [i for i in items if isinstance(i, Mapping)]


def require(principal: Principal | None, allowed: bool, what: str) -> None:
    if principal is None:
        raise Unauthorized(f"{what} needs an API key: send Authorization: Bearer <key>")
    if not allowed:
        raise Forbidden(f"role {principal.role!r} may not {what}")


def authenticate(instance: Instance, secret: str) -> Principal | None:
    """Who holds an API key secret.

    :param secret: the bearer token.
    :returns: the caller, or ``None`` for an unknown or revoked key.
    """
    with instance.db.reading() as session:
        return Tenants(session).authenticate(secret)


def check_idempotency_key(key: str | None) -> str | None:
    """Check an ``Idempotency-Key`` value.

    :raises InvalidInput: longer than :data:`MAX_IDEMPOTENCY_KEY` or not printable ASCII.
    """
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters",
            pointer="Idempotency-Key",
        )
    return key


def _stored(instance: Instance, passport: StoredPassport) -> IssuedPassport:
    with instance.db.reading() as session:
        creds = Passports(session).credentials(passport.id)
    return IssuedPassport(passport, {c.access_group: _credential_of(c) for c in creds}, False)


def issue_passport(
    instance: Instance,
    record: Mapping[str, Any],
    *,
    principal: Principal | None,
    mapping: str | None = None,
    proof_format: str = "di",
    idempotency_key: str | None = None,
    pool: StatusPool | None = None,
) -> IssuedPassport:
    """Convert a validated record, sign one credential per access group and store the
    passport with its credentials in one unit of work.

    :param record: the validated national record.
    :param principal: the caller; exporters and admins may issue.
    :param mapping: ``SET@VERSION`` (default: the instance's).
    :param proof_format: ``di`` or ``jwt``.
    :param idempotency_key: a repeat with the same key and record returns the first
        result instead of a second passport.
    :param pool: where status entries come from (bulk conversion shares one).
    :returns: the passport and its credentials.
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises Conflict: the battery already has a passport, or the key was used for
        another record.
    :raises GatewayError: a record that cannot be converted or signed (422).
    """
    require(principal, auth.may_issue(principal), "issue passports")
    assert principal is not None
    if proof_format not in PROOF_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(PROOF_FORMATS)}", pointer="format")
    check_idempotency_key(idempotency_key)
    digest = record_hash(dict(record))
    passport_id = instance.passport_id(record["battery"]["code"])
    # One read before the costly conversion: a repeated request is answered from the
    # store, a battery that already has a passport is refused.
    with instance.db.reading() as session:
        passports = Passports(session)
        earlier = (passports.by_idempotency_key(principal.tenant_id, idempotency_key)
                   if idempotency_key is not None else None)
        if earlier is None:
            try:
                passports.get(passport_id)
            except NotFound:
                pass
            else:
                raise Conflict(
                    f"battery {record['battery']['code']} already has a passport: "
                    f"{passport_id}",
                    pointer="/battery/code",
                )
    if earlier is not None:
        if earlier.record_sha256 != digest:
            raise Conflict(
                f"Idempotency-Key {idempotency_key!r} was already used for another record",
                pointer="Idempotency-Key",
            )
        return _stored(instance, earlier)
    table = instance.mapping(mapping or instance.settings.mapping)
    draft = draft_passport(record, mapping=table, base_url=instance.base_url,
                           whitelist=instance_whitelist(instance.settings.home))
    signed = sign_passport(
        draft, key=instance.key, registry=pool or StatusPool(instance),  # type: ignore[arg-type]
        proof_format=proof_format,
    )
    credentials = []
    for group, credential in signed.items():
        claims = credential_claims(credential)
        revocation = next(
            (e for e in _entries(claims) if e.get("statusPurpose") == "revocation"), None
        )
        credentials.append(NewCredential(
            id=claims["id"],
            access_group=group,
            format=proof_format,
            body=_body(credential),
            # The revocation entry: the store flips it on revocation and keeps two
            # credentials from ever sharing it.
            status_list_id=revocation["statusListCredential"] if revocation else None,
            status_index=int(revocation["statusListIndex"]) if revocation else None,
        ))
    mapping_ref = draft.gaps["mapping"]
    new = NewPassport(
        id=passport_id,
        battery_code=draft.battery_code,
        tenant_id=principal.tenant_id,
        category=draft.conversion.category,
        mapping_set=mapping_ref["set"],
        mapping_version=mapping_ref["version"],
        mapping_hash=mapping_ref["hash"],
        record=dict(record),
        gaps=draft.gaps,
        record_sha256=digest,
        idempotency_key=idempotency_key,
    )
    with instance.db.transaction() as session:
        result = Passports(session).save(new, credentials, actor=actor_of(principal))
        if result.created:
            # What this passport discloses and what the cross-border policy kept back:
            # field names only, never their values (DESIGN §5 Cross-border policy).
            AuditLog(session).append(actor_of(principal), "passport.disclosure", passport_id, {
                "policy": draft.policy.policy,
                "withheld": list(draft.policy.withheld),
                "aggregated": list(draft.policy.aggregated),
                "credentials": [
                    {"id": c.id, "access_group": c.access_group, "format": c.format}
                    for c in credentials
                ],
            })
    if not result.created:
        return _stored(instance, result.passport)
    return IssuedPassport(result.passport, dict(signed), True)


def actor_of(principal: Principal) -> str:
    """How the audit log names a caller: ``tenant:NAME/key:ID``, or ``console[/tenant:NAME]``
    for the operator at the instance's console."""
    if principal.key_id == CONSOLE_KEY_ID:
        return f"console/tenant:{principal.tenant_name}" if principal.tenant_id else "console"
    return f"tenant:{principal.tenant_name}/key:{principal.key_id}"


#: The operator at the instance's console acting for no tenant: sees and may do all.
CONSOLE_ADMIN = Principal(tenant_id=0, tenant_name="", role=auth.ADMIN, key_id=CONSOLE_KEY_ID)


def console_principal(instance: Instance, tenant: str | None, role: str = auth.EXPORTER
                      ) -> Principal:
    """The operator at the instance's console, acting for a tenant (``gateway convert
    --store``, ``gateway passports list --tenant``).

    :param tenant: the tenant's name; ``None`` picks the only tenant there is.
    :param role: the role to act in.
    :returns: the principal (its ``key_id`` is :data:`CONSOLE_KEY_ID`).
    :raises NotFound: no such tenant. :raises InvalidInput: no tenant named while the
        store holds none or several.
    """
    with instance.db.reading() as session:
        tenants = Tenants(session)
        if tenant is not None:
            found = tenants.get(tenant)
        else:
            known = tenants.list()
            if len(known) != 1:
                names = ", ".join(t.name for t in known)
                raise InvalidInput(
                    "name the tenant with --tenant"
                    + (f" (one of {names})" if names else
                       "; create one first with `gateway tenants create NAME`"),
                    pointer="--tenant",
                )
            found = known[0]
    return Principal(tenant_id=found.id, tenant_name=found.name, role=role,
                     key_id=CONSOLE_KEY_ID)


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
    return passport, {c.access_group: _credential_of(c) for c in creds}


def passport_gaps(instance: Instance, code: str, principal: Principal | None) -> dict[str, Any]:
    """A passport's gap report, for the exporter that issued it, authorities and admins.

    :raises Unauthorized: no caller. :raises Forbidden: anyone else.
    :raises NotFound: no passport for this code.
    """
    passport = find_passport(instance, code)
    sees_all = auth.visible_groups(principal, passport.tenant_id) == auth.OWNER_GROUPS
    require(principal, sees_all, "read another tenant's gap report")
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
    require(principal, True, "list passports")
    assert principal is not None
    with instance.db.reading() as session:
        return Passports(session).list(
            auth.list_scope(principal), status=status, battery_code=battery_code,
            after=instance.passport_id(after) if after else None, limit=limit,
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
    require(principal, auth.may_change_status(principal, passport.tenant_id),
             f"{action} this passport")
    assert principal is not None
    successor_id = None
    if status == "superseded":
        if not successor:
            raise InvalidInput("supersede names the successor's battery code",
                               pointer="/successor")
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
            passport.id, status, actor_of(principal), superseded_by=successor_id, reason=reason
        )
        registry = status_registry(instance, DatabaseStatusListStore(session))
        note = f"{SUPERSEDED_PREFIX}{successor_id}" if successor_id else status
        for stored in passports.credentials(passport.id):
            for item in _entries(credential_claims(_credential_of(stored))):
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
