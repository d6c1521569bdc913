"""Who may read which Annex XIII point of a passport, and the record of who did.

- The **access table** in force (the newest an admin stored, else the one shipped):
  shown to anyone, changed by admins only, audited.
- A caller's **entitlement** to one passport: the points its audience reads (the
  issuing exporter is the passport's ``issuer``; other callers reach an audience by
  role), plus the points of legitimate-interest **grants** in force for it; and the
  sections that rely on an export approval no longer in force, withheld from everyone
  but the issuer.
- **Grants**: given by the issuing exporter (or an admin), listed, revoked, audited.
- The **disclosure log**: every response that gives point 2, 3 or 4 data to a party
  other than the issuing tenant is recorded (:mod:`gateway.access.disclosure`); the
  issuer lists its own, admins every tenant's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeGuard

from gateway import annex_xiii, auth
from gateway.access import disclosure
from gateway.access import grants as rules
from gateway.access.table import (
    AUTHORITY,
    ISSUER,
    LEGITIMATE_INTEREST,
    PUBLIC,
    AccessTable,
    build,
    load_shipped,
    parse_csv,
)
from gateway.auth import Principal
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.services.instance import Instance
from gateway.store import Database, Passports, Tenants
from gateway.store.access_tables import AccessTables, StoredAccessTable
from gateway.store.approvals import Approvals
from gateway.store.disclosures import Disclosures, NewDisclosure, StoredDisclosure
from gateway.store.grants import Grants, NewGrant, StoredGrant
from gateway.store.passports import StoredPassport
from gateway.store.tables import MAX_ROW_ID, utcnow
from gateway.validity import parse_bound

#: Longest battery code looked up (GB/T 34014 codes have 24 characters).
MAX_CODE = 64
#: Longest tenant name looked up (``gateway.store.tenants``).
MAX_TENANT_NAME = 100

# -- the access table ----------------------------------------------------------------------


@lru_cache(maxsize=8)
def _stored_table(text: str, name: str, version: str) -> AccessTable:
    """A stored table, read once: every read of a passport asks for the one in force."""
    return parse_csv(text, name, version)


def _in_force(session: Any) -> tuple[AccessTable, StoredAccessTable | None]:
    stored = AccessTables(session).current()
    if stored is None:
        return load_shipped(), None
    return _stored_table(stored.table, stored.name, stored.version), stored


def _table_json(table: AccessTable, stored: StoredAccessTable | None) -> dict[str, Any]:
    body = table.as_json()
    body["source"] = "shipped" if stored is None else "database"
    if stored is not None:
        body["reason"] = stored.reason
        body["addedBy"] = stored.added_by
        body["addedAt"] = stored.added_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def access_table(db: Database) -> dict[str, Any]:
    """The access table in force, as JSON data (anyone may read it)."""
    with db.reading() as session:
        return _table_json(*_in_force(session))


def access_table_csv(db: Database) -> str:
    """The access table in force as CSV text, the form ``gateway access set`` reads."""
    with db.reading() as session:
        return _in_force(session)[0].csv_text()


def set_access_table(
    db: Database,
    principal: Principal | None,
    rows: Collection[Mapping[str, object]] | str,
    *,
    version: object,
    reason: object,
    name: object = None,
) -> dict[str, Any]:
    """Check a new access table and put it in force (admins; audited as
    ``access_table.set``).

    :param rows: the audiences as JSON rows, or the table's CSV text.
    :param name: the table's name; by default the name of the one in force.
    :raises Unauthorized: no caller. :raises Forbidden: not an admin.
    :raises InvalidInput: a table that breaks the rules of :mod:`gateway.access.table`.
    :raises Conflict: that name and version is stored already.
    """
    caller = auth.require(principal, auth.may_administer(principal), "change the access table")
    why = rules.check_reason(reason)
    with db.transaction() as session:
        current, _ = _in_force(session)
        table_name = current.name if name is None else name
        if isinstance(rows, str):
            table = parse_csv(rows, str(table_name), str(version))
        else:
            table = build(table_name, version, rows)
        if table.ref == load_shipped().ref:
            raise InvalidInput(
                f"{table.ref} is the shipped table; give a new version", pointer="/version"
            )
        stored = AccessTables(session).add(
            table.name,
            table.version,
            table.csv_text(),
            table.sha256,
            reason=why,
            actor=auth.audit_actor(caller),
        )
    return _table_json(table, stored)


# -- entitlement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entitlement:
    """What one caller may read of one passport.

    :ivar audience: the audience the caller reaches (``issuer`` for the issuing exporter).
    :ivar points: the Annex XIII points it may read.
    :ivar basis: why: ``issuer``, ``role:<audience>``, ``grant:<id>`` or ``public``.
    :ivar grants: the ids of the grants that opened points.
    :ivar table: the access table used (``NAME@VERSION``).
    :ivar lapsed: sections withheld because the export approval they rely on is no
        longer in force.
    """

    audience: str
    points: frozenset[annex_xiii.Point]
    basis: tuple[str, ...]
    grants: tuple[int, ...]
    table: str
    lapsed: frozenset[str] = frozenset()

    def may_read(self, section: str) -> bool:
        """Whether the caller may read the whole of ``section``."""
        return (
            annex_xiii.is_section(section)
            and annex_xiii.readable(section, self.points)
            and section not in self.lapsed
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "audience": self.audience,
            "points": sorted(self.points),
            "basis": list(self.basis),
        }


def _is_owner(principal: Principal | None, passport: StoredPassport) -> bool:
    return (
        principal is not None
        and principal.role == auth.EXPORTER
        and principal.tenant_id == passport.tenant_id
    )


def _batch(passport: StoredPassport) -> str | None:
    production = passport.record.get("production")
    batch = production.get("batch") if isinstance(production, dict) else None
    return batch if isinstance(batch, str) else None


def entitlement(
    session: Any, passport: StoredPassport, principal: Principal | None, at: datetime
) -> Entitlement:
    """What ``principal`` may read of ``passport`` at ``at``, read in an open session.

    A caller is in one audience for one passport: ``issuer`` if its tenant's exporter
    issued it, else the audience its role reaches. Grants in force move a caller of the
    ``public`` audience into ``legitimate_interest``, for the points they open that the
    table gives that audience; they never add to another audience (an authority reads
    points 2 and 3 as an authority, never point 4 through a grant to its tenant).
    """
    table, _ = _in_force(session)
    if _is_owner(principal, passport):
        audience, basis = ISSUER, [ISSUER]
    else:
        audience = table.audience_of(principal.role if principal is not None else None)
        basis = [PUBLIC] if audience == PUBLIC else [f"role:{audience}"]
    points = set(table.points(audience))
    opened: list[int] = []
    if principal is not None and audience == PUBLIC:
        grantable = table.points(LEGITIMATE_INTEREST)
        for grant in Grants(session).opening(
            passport_id=passport.id,
            issuer_tenant_id=passport.tenant_id,
            batch=_batch(passport),
            reader_tenant_id=principal.tenant_id,
            reader_key_id=principal.key_id,
            at=at,
        ):
            gained = grant.points & grantable
            if gained:
                points |= gained
                opened.append(grant.id)
        if opened:
            audience, basis = LEGITIMATE_INTEREST, [f"grant:{g}" for g in opened]
    lapsed = frozenset() if audience == ISSUER else _lapsed(session, passport, at)
    return Entitlement(audience, frozenset(points), tuple(basis), tuple(opened), table.ref, lapsed)


def _lapsed(session: Any, passport: StoredPassport, at: datetime) -> frozenset[str]:
    """Sections carrying data export approvals released (the gap report's
    ``policy.approvals``) where some category of that data is no longer covered by an
    approval in force (expired or revoked): no new disclosure relies on them."""
    policy = passport.gaps.get("policy")
    relied = policy.get("approvals") if isinstance(policy, dict) else None
    if not relied:
        return frozenset()
    live = {a.id for a in Approvals(session).in_force(passport.tenant_id, at)}
    needed: dict[str, set[str]] = {}
    covered: dict[str, set[str]] = {}
    for reliance in relied:
        categories = set(reliance.get("categories", ()))
        for section in reliance.get("sections", ()):
            needed.setdefault(section, set()).update(categories)
            if reliance.get("id") in live:
                covered.setdefault(section, set()).update(categories)
    return frozenset(s for s, cats in needed.items() if not cats <= covered.get(s, set()))


def record_in(
    session: Any,
    passport: StoredPassport,
    principal: Principal | None,
    granted: Entitlement,
    sections: Collection[str],
    channel: str,
) -> None:
    """Add a disclosure log entry, in an open unit of work, if serving ``sections`` to
    ``principal`` is a disclosure."""
    points = disclosure.disclosed_points(principal, passport.tenant_id, sections)
    if not points or principal is None:
        return
    Disclosures(session).record(
        NewDisclosure(
            tenant_id=passport.tenant_id,
            passport_id=passport.id,
            reader_tenant_id=principal.tenant_id,
            reader_key_id=principal.key_id,
            actor=auth.audit_actor(principal),
            points=points,
            basis=granted.basis,
            channel=channel,
        )
    )


def record_disclosure(
    instance: Instance,
    passport: StoredPassport,
    principal: Principal | None,
    granted: Entitlement,
    sections: Collection[str],
    channel: str,
) -> None:
    """Record, in a unit of work of its own, that ``sections`` of ``passport`` went to
    ``principal`` (nothing when it is no disclosure)."""
    if not disclosure.disclosed_points(principal, passport.tenant_id, sections):
        return
    with instance.db.transaction() as session:
        record_in(session, passport, principal, granted, sections, channel)


def may_inspect(granted: Entitlement) -> bool:
    """Whether the caller may read a passport's gap report and evidence package: its
    issuer and the authorities (their audience by role, not a grant)."""
    return granted.audience in (ISSUER, AUTHORITY)


def readable_gaps(gaps: Mapping[str, Any], granted: Entitlement) -> dict[str, Any]:
    """A gap report cut to what the caller may read: the issuer gets it whole; anyone
    else loses the rows and counts of sections it may not read."""
    if granted.audience == ISSUER:
        return dict(gaps)
    out = dict(gaps)
    rows = gaps.get("attributes")
    if isinstance(rows, list):
        out["attributes"] = [
            r for r in rows if isinstance(r, dict) and granted.may_read(str(r.get("access_group")))
        ]
    summary = gaps.get("summary")
    if isinstance(summary, dict):
        # Counts by section ("by_section"; "by_access_group" in reports made before).
        out["summary"] = {
            name: {k: v for k, v in value.items() if granted.may_read(k)}
            if name in ("by_section", "by_access_group") and isinstance(value, dict)
            else value
            for name, value in summary.items()
        }
    return out


# -- grants --------------------------------------------------------------------------------


def _granting(principal: Principal | None) -> Principal:
    return auth.require(principal, auth.may_issue(principal), "grant access to passports")


def _issuer_of(
    session: Any, caller: Principal, named: object, passport: StoredPassport | None
) -> int:
    """The issuing tenant a grant is given for."""
    if named is not None and not _tenant_name(named):
        raise InvalidInput("issuer is a tenant name", pointer="/issuer")
    if not auth.may_administer(caller):
        if named is not None and named != caller.tenant_name:
            raise Forbidden("an exporter grants access to its own passports only")
        return caller.tenant_id
    if named is not None:
        try:
            return Tenants(session).get(named).id
        except NotFound:
            raise InvalidInput(f"no tenant named {named!r}", pointer="/issuer") from None
    if passport is not None:
        return passport.tenant_id
    if not caller.tenant_id:
        raise InvalidInput("the console acts for no tenant; name the issuer", pointer="/issuer")
    return caller.tenant_id


def _tenant_name(name: object) -> TypeGuard[str]:
    """Whether ``name`` could name a tenant (PostgreSQL refuses NUL even to compare)."""
    return isinstance(name, str) and 1 <= len(name) <= MAX_TENANT_NAME and name.isprintable()


def _grantee(session: Any, grantee: object) -> tuple[int | None, int | None]:
    if not isinstance(grantee, dict) or len(grantee) != 1:
        raise InvalidInput('name the grantee: {"tenant": NAME} or {"key": ID}', pointer="/grantee")
    if "tenant" in grantee:
        name = grantee["tenant"]
        if not _tenant_name(name):
            raise InvalidInput("a tenant is named by its name", pointer="/grantee/tenant")
        try:
            return Tenants(session).get(name).id, None
        except NotFound:
            raise InvalidInput(f"no tenant named {name!r}", pointer="/grantee/tenant") from None
    key = grantee.get("key")
    if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= MAX_ROW_ID:
        raise InvalidInput("a key is named by its id", pointer="/grantee/key")
    if not Grants(session).live_key(key):
        raise InvalidInput(f"no live API key {key}", pointer="/grantee/key")
    return None, key


def add_grant(
    instance: Instance, principal: Principal | None, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Grant a party points of an issuer's passports (the issuing exporter or an admin;
    audited as ``grant.added``).

    :param body: ``grantee`` (``{"tenant": NAME}`` or ``{"key": ID}``), ``scope``
        (``passport`` with ``batteryCode``, ``batch`` with ``batch``, or ``all``),
        ``points``, ``purpose``, ``validUntil``, optional ``validFrom`` (default now),
        ``reason``; an admin may name the ``issuer`` tenant.
    :raises InvalidInput: naming the field at fault. :raises NotFound: no passport of the
        issuer for that code.
    """
    caller = _granting(principal)
    scope = body.get("scope")
    if scope not in rules.SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(rules.SCOPES)}", pointer="/scope")
    purpose = rules.check_purpose(body.get("purpose"))
    reason = rules.check_reason(body.get("reason"))
    now = utcnow()
    start = parse_bound(body["validFrom"], "/validFrom") if "validFrom" in body else now
    validity = rules.check_validity(
        start, parse_bound(body.get("validUntil"), "/validUntil", end=True)
    )
    if validity.end <= now:
        raise InvalidInput("validUntil is in the past", pointer="/validUntil")
    points_given = body.get("points")
    if not isinstance(points_given, list):
        raise InvalidInput("points is a list of Annex XIII points", pointer="/points")
    with instance.db.transaction() as session:
        passport = _grant_passport(instance, session, scope, body.get("batteryCode"))
        issuer = _issuer_of(session, caller, body.get("issuer"), passport)
        if passport is not None and passport.tenant_id != issuer:
            raise _no_passport(body.get("batteryCode"))
        if scope != rules.BATCH and body.get("batch") is not None:
            raise InvalidInput("batch goes with scope batch", pointer="/batch")
        batch = rules.check_batch(body.get("batch")) if scope == rules.BATCH else None
        table, _ = _in_force(session)
        points = rules.check_points(points_given, table.points(LEGITIMATE_INTEREST))
        grantee_tenant, grantee_key = _grantee(session, body.get("grantee"))
        stored = Grants(session).add(
            NewGrant(
                tenant_id=issuer,
                grantee_tenant_id=grantee_tenant,
                grantee_key_id=grantee_key,
                scope=str(scope),
                passport_id=passport.id if passport is not None else None,
                batch=batch,
                points=points,
                purpose=purpose,
                valid_from=validity.start,
                valid_until=validity.end,
                reason=reason,
            ),
            actor=auth.audit_actor(caller),
        )
    return stored.as_json(now)


def _no_passport(code: object) -> NotFound:
    return NotFound(f"no passport for battery code {code!r}", pointer="/batteryCode")


def _grant_passport(
    instance: Instance, session: Any, scope: object, code: object
) -> StoredPassport | None:
    if scope != rules.PASSPORT:
        if code is not None:
            raise InvalidInput("batteryCode goes with scope passport", pointer="/batteryCode")
        return None
    if not isinstance(code, str) or not code or len(code) > MAX_CODE:
        raise InvalidInput("scope passport names the batteryCode", pointer="/batteryCode")
    try:
        return Passports(session).get(instance.passport_id(code))
    except NotFound:
        raise _no_passport(code) from None


def list_grants(db: Database, principal: Principal | None) -> dict[str, Any]:
    """The grants a caller gave (exporters: its tenant's; admins: every tenant's) and
    received (given to its tenant or its key).

    :raises Unauthorized: no caller.
    """
    caller = auth.require(principal, True, "list access grants")
    now = utcnow()
    with db.reading() as session:
        grants = Grants(session)
        given: list[StoredGrant] = []
        if auth.may_administer(caller):
            given = grants.given(None)
        elif auth.may_issue(caller):
            given = grants.given(caller.tenant_id)
        received = grants.received(caller.tenant_id, caller.key_id) if caller.tenant_id else []
    return {
        "given": [g.as_json(now) for g in given],
        "received": [g.as_json(now) for g in received],
    }


def revoke_grant(
    db: Database, principal: Principal | None, grant_id: int, reason: object
) -> dict[str, Any]:
    """Revoke a grant at once (its issuing exporter or an admin; audited as
    ``grant.revoked``).

    :raises NotFound: no such grant, or one of another issuer (not told apart).
    :raises Conflict: revoked already.
    """
    caller = _granting(principal)
    why = rules.check_reason(reason)
    with db.transaction() as session:
        grants = Grants(session)
        found = grants.get(grant_id)
        if not auth.may_administer(caller) and found.tenant_id != caller.tenant_id:
            raise NotFound(f"no grant {grant_id}", pointer="id")
        return grants.revoke(grant_id, reason=why, actor=auth.audit_actor(caller)).as_json()


# -- the disclosure log --------------------------------------------------------------------


def list_disclosures(
    instance: Instance,
    principal: Principal | None,
    *,
    battery_code: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tenant: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[StoredDisclosure]:
    """The disclosure log of the caller's tenant (admins: every tenant's, or ``tenant``'s).

    :param since: only entries at or after (RFC 3339 timestamp or date).
    :param until: only entries before.
    :raises Unauthorized: no caller. :raises Forbidden: not an exporter or admin.
    :raises InvalidInput: a bad time, limit or a ``tenant`` named by a non-admin.
    :raises NotFound: no such tenant.
    """
    caller = auth.require(principal, auth.may_issue(principal), "read the disclosure log")
    if tenant is not None and (len(tenant) > MAX_TENANT_NAME or not tenant.isprintable()):
        raise InvalidInput("no tenant has such a name", pointer="tenant")
    if battery_code is not None and len(battery_code) > MAX_CODE:
        raise InvalidInput(
            f"a battery code is at most {MAX_CODE} characters", pointer="batteryCode"
        )
    if not 0 <= after <= MAX_ROW_ID:
        raise InvalidInput(f"after must be between 0 and {MAX_ROW_ID}", pointer="after")
    start = parse_bound(since, "since") if since is not None else None
    end = parse_bound(until, "until", end=True) if until is not None else None
    with instance.db.reading() as session:
        if auth.may_administer(caller):
            scope = Tenants(session).get(tenant).id if tenant else None
        elif tenant is not None and tenant != caller.tenant_name:
            raise Forbidden("an exporter reads its own disclosure log only")
        else:
            scope = caller.tenant_id
        return Disclosures(session).listing(
            scope,
            passport_id=instance.passport_id(battery_code) if battery_code else None,
            since=start,
            until=end,
            after_id=after,
            limit=limit,
        )


def passport_disclosures(
    session: Any, passport_id: str
) -> tuple[list[StoredDisclosure], list[StoredGrant]]:
    """Every disclosure of one passport, and the grants they name (for evidence)."""
    log = Disclosures(session)
    entries: list[StoredDisclosure] = []
    after = 0
    while page := log.listing(None, passport_id=passport_id, after_id=after, limit=1000):
        entries.extend(page)
        after = page[-1].id
    ids = sorted({g for e in entries for g in e.grant_ids})
    return entries, Grants(session).by_ids(ids)
