"""Issuing passports into the store: one record, or many with one outcome each.

The pipeline, one typed step per hop: read what the store already holds and what the
issuing tenant's conversions are judged by, its data policy and its export approvals in
force (:func:`_read`) -> policy, map, findings, documents
(:func:`~gateway.services.conversion.draft_passport`) -> sign
(:func:`~gateway.services.conversion.sign_credentials`, which returns the status entries
it allocated) -> store and audit (:func:`_save`). The batch API, the exporter's upload
page and ``gateway convert --sign --store`` all go through :func:`issue_many`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.credentials import formats
from gateway.errors import Conflict, GatewayError, InvalidInput, NotFound
from gateway.services import identifiers
from gateway.services.conversion import (
    BatteryRecycled,
    PassportDraft,
    Recycling,
    SignedCredential,
    draft_passport,
    recycling,
    sign_credentials,
)
from gateway.services.instance import BULK_STATUS_CHUNK, Instance, StatusPool
from gateway.services.passports import cease_passport, find_passport, stored_credential
from gateway.services.tenant_policy import TenantRules, tenant_rules
from gateway.services.whitelist import instance_whitelist
from gateway.store import AuditLog, Passports
from gateway.store.identifiers import Identifier
from gateway.store.passports import NewCredential, NewPassport, StoredPassport, record_hash

log = logging.getLogger(__name__)

#: Longest idempotency key accepted (the column's width, less room for a line suffix).
MAX_IDEMPOTENCY_KEY = 200
#: The problem of a record that failed inside the gateway (the error is logged, not told).
INTERNAL_ERROR: dict[str, Any] = {
    "type": "https://w3id.org/cn-eu-battery/problems/internal-error",
    "title": "Internal error",
    "status": 500,
    "detail": "this record failed inside the gateway; the error was logged",
}


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


@dataclass(frozen=True)
class Outcome:
    """What became of one record of many: issued (or repeated), or refused.

    :ivar number: the record's position as its source counts (NDJSON line, upload item,
        file on the command line).
    :ivar issued: the passport, unless refused.
    :ivar problem: the RFC 9457 problem of a refused record.
    :ivar error: the error that refused it (``None`` for an internal error).
    """

    number: int
    issued: IssuedPassport | None = None
    problem: dict[str, Any] | None = None
    error: GatewayError | None = None

    @property
    def outcome(self) -> str:
        """``created``, ``repeated`` or ``refused``."""
        if self.issued is None:
            return "refused"
        return "created" if self.issued.created else "repeated"


#: One record of many: what its source read, or why it could not be read.
RecordItem = tuple[int, Mapping[str, Any] | Exception]


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


def require_issuer(principal: Principal | None) -> Principal:
    """The caller, if it may issue passports.

    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    """
    return auth.require(principal, auth.may_issue(principal), "issue passports")


def _stored(instance: Instance, passport: StoredPassport) -> IssuedPassport:
    with instance.db.reading() as session:
        creds = Passports(session).credentials(passport.id)
    return IssuedPassport(passport, {c.access_group: stored_credential(c) for c in creds}, False)


def _known_predecessor(
    passports: Passports, instance: Instance, record: Mapping[str, Any]
) -> dict[str, str]:
    """The passport of the battery this one was made from, when this gateway holds it:
    a link to a passport that may not exist, or live with another issuer, is never
    built (the record's supplement names such a passport instead)."""
    original = record["battery"].get("original_code")
    if not isinstance(original, str):
        return {}
    passport_id = instance.passport_id(original)
    try:
        passports.get(passport_id)
    except NotFound:
        return {}
    return {original: passport_id}


def _read(
    instance: Instance,
    principal: Principal,
    record: Mapping[str, Any],
    digest: str,
    idempotency_key: str | None,
    at: datetime,
) -> StoredPassport | tuple[TenantRules, Identifier, dict[str, str]]:
    """Step "read": one read before the costly conversion. A repeated request is answered
    from the store; a battery that already has a passport is refused; otherwise the
    issuing tenant's data policy (the shipped one, tightened by the tenant's), its
    export approvals in force at ``at``, the battery's unique product identifier
    (:func:`gateway.services.identifiers.planned`) and the passport of the battery it
    was made from, when this gateway holds one, are read in the same unit of work.

    :returns: the passport an earlier request with this key made, or what the new
        passport's conversion is judged by, the identifier it states and the known
        passports by battery code (the predecessor's, Art. 77(7)).
    :raises Conflict: the battery has a passport, or the key was used for another record.
    :raises PolicyError: the tenant's policy no longer tightens the shipped one.
    """
    passport_id = instance.passport_id(record["battery"]["code"])
    with instance.db.reading() as session:
        passports = Passports(session)
        earlier = (
            passports.by_idempotency_key(principal.tenant_id, idempotency_key)
            if idempotency_key is not None
            else None
        )
        if earlier is None:
            try:
                passports.get(passport_id)
            except NotFound:
                rules = tenant_rules(session, principal.tenant_id, at)
                planned = identifiers.planned(
                    session, principal.tenant_id, record, instance.base_url
                )
                return rules, planned, _known_predecessor(passports, instance, record)
            raise Conflict(
                f"battery {record['battery']['code']} already has a passport: {passport_id}",
                pointer="/battery/code",
            )
    if earlier.record_sha256 != digest:
        raise Conflict(
            f"Idempotency-Key {idempotency_key!r} was already used for another record",
            pointer="Idempotency-Key",
        )
    return earlier


def _refuse_recycled(
    instance: Instance, principal: Principal, record: Mapping[str, Any], recycled: Recycling
) -> BatteryRecycled:
    """The refusal of a record whose battery was recycled (Art. 77(8)). When the battery
    has a passport of the caller's own (or, for an admin, any) that is active, it ceases
    first, audited; another tenant's passport is neither changed nor mentioned."""
    code = record["battery"]["code"]
    try:
        passport = find_passport(instance, code)
    except NotFound:
        return recycled.refusal()
    if not auth.may_change_status(principal, passport.tenant_id):
        return recycled.refusal()
    if passport.status not in ("active", "ceased"):
        return recycled.refusal(f"; its passport {passport.id} is {passport.status}")
    if passport.status == "ceased":
        on = passport.ceased_on.isoformat() if passport.ceased_on else recycled.date
        return recycled.refusal(f"; its passport {passport.id} ceased on {on}")
    try:
        cease_passport(instance, code, principal, recycled_on=recycled.date)
    except GatewayError as exc:  # a date the explicit call would refuse; nothing changed
        return recycled.refusal(f"; its passport {passport.id} stays {passport.status}: {exc}")
    return recycled.refusal(f"; its passport {passport.id} has ceased as of {recycled.date}")


def _body(credential: dict[str, Any] | str) -> str:
    if isinstance(credential, str):
        return credential
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def _new_credential(signed: SignedCredential, proof_format: str) -> NewCredential:
    # The revocation entry: the store flips it on revocation and keeps two credentials
    # from ever sharing it.
    revocation = signed.entry("revocation")
    return NewCredential(
        id=signed.id,
        access_group=signed.access_group,
        format=proof_format,
        body=_body(signed.credential),
        status_list_id=revocation["statusListCredential"] if revocation else None,
        status_index=int(revocation["statusListIndex"]) if revocation else None,
    )


def _save(
    instance: Instance,
    principal: Principal,
    record: Mapping[str, Any],
    digest: str,
    idempotency_key: str | None,
    draft: PassportDraft,
    signed: Mapping[str, SignedCredential],
    proof_format: str,
    identifier: Identifier,
) -> IssuedPassport:
    """Step "store + audit": the passport, its credentials, the battery's unique product
    identifier and the disclosure event in one unit of work."""
    credentials = [_new_credential(s, proof_format) for s in signed.values()]
    mapping_ref = draft.gaps["mapping"]
    new = NewPassport(
        id=draft.conversion.passport_id,
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
    actor = auth.audit_actor(principal)
    with instance.db.transaction() as session:
        result = Passports(session).save(new, credentials, actor=actor)
        if result.created:
            identifiers.keep(session, identifier)
            # What this passport discloses and what the cross-border policy kept back:
            # field names only, never their values (DESIGN §5 Cross-border policy).
            AuditLog(session).append(
                actor,
                "passport.disclosure",
                new.id,
                {
                    "policy": draft.policy.applied or draft.policy.policy,
                    "withheld": list(draft.policy.withheld),
                    "aggregated": list(draft.policy.aggregated),
                    "released": dict(draft.policy.released),
                    "approvals": [
                        {"id": a["id"], "reference": a["reference"], "sections": a["sections"]}
                        for a in draft.gaps["policy"].get("approvals", [])
                    ],
                    "credentials": [
                        {"id": c.id, "access_group": c.access_group, "format": c.format}
                        for c in credentials
                    ],
                },
            )
    if not result.created:
        return _stored(instance, result.passport)
    return IssuedPassport(
        result.passport, {group: s.credential for group, s in signed.items()}, True
    )


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

    The record is judged by the caller's tenant's data policy (the shipped one,
    tightened by the tenant) and its export approvals in force now: BMS health data
    leaves only under one, and the passport names those it relies on.

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
    :raises BatteryRecycled: the record's last event is a completed recycling (Art.
        77(8)); the battery's active passport of the caller's tenant ceases.
    :raises GatewayError: a record that cannot be converted or signed (422), or a
        tenant policy that no longer tightens the shipped one (422).
    """
    caller = require_issuer(principal)
    proof_format = formats.proof_format(proof_format)
    check_idempotency_key(idempotency_key)
    recycled = recycling(record)
    if recycled is not None:
        raise _refuse_recycled(instance, caller, record, recycled)
    digest = record_hash(dict(record))
    at = datetime.now(UTC)
    found = _read(instance, caller, record, digest, idempotency_key, at)
    if isinstance(found, StoredPassport):
        return _stored(instance, found)
    rules, identifier, known = found
    draft = draft_passport(
        record,
        mapping=instance.mapping(mapping or instance.settings.mapping),
        base_url=instance.base_url,
        whitelist=instance_whitelist(instance.settings.home),
        policy=rules.policy,
        approvals=rules.approvals,
        at=at,
        identifier=identifier.uri,
        known_passports=known,
    )
    signed = sign_credentials(
        draft, key=instance.key, registry=pool or StatusPool(instance), proof_format=proof_format
    )
    return _save(
        instance, caller, record, digest, idempotency_key, draft, signed, proof_format, identifier
    )


def issue_many(
    instance: Instance,
    records: Iterable[RecordItem],
    *,
    principal: Principal | None,
    mapping: str | None = None,
    proof_format: str = "di",
    idempotency_key: Callable[[int], str | None] | None = None,
) -> Iterator[Outcome]:
    """Issue many records, each in its own unit of work, yielding one outcome per record
    as soon as it is committed; one record's failure never ends the others.

    Status entries are reserved :data:`BULK_STATUS_CHUNK` credentials at a time.

    :param records: ``(number, record)`` pairs; a record that could not be read comes as
        the exception that says why, and is refused with it.
    :param idempotency_key: the key of record ``number`` (``None``: no key).
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue
        (before any record is read).
    """
    require_issuer(principal)
    proof_format = formats.proof_format(proof_format)
    pool = StatusPool(instance, chunk=BULK_STATUS_CHUNK)
    for number, item in records:
        try:
            if isinstance(item, Exception):
                raise item
            issued = issue_passport(
                instance,
                item,
                principal=principal,
                mapping=mapping,
                proof_format=proof_format,
                idempotency_key=idempotency_key(number) if idempotency_key else None,
                pool=pool,
            )
        except GatewayError as exc:
            yield Outcome(number, problem=exc.to_problem(), error=exc)
        except Exception:  # one record's failure must not end the others
            log.exception("bulk issuance: record %d failed", number)
            yield Outcome(number, problem=dict(INTERNAL_ERROR))
        else:
            yield Outcome(number, issued=issued)
