"""Issuing passports into the store: one record, or many with one outcome each.

The pipeline, one typed step per hop: read what the store already holds and what the
issuing tenant's conversions are judged by, its data policy and its export approvals in
force (:func:`_read`) -> policy, map, findings, documents
(:func:`~gateway.services.conversion.draft_passport`) -> sign
(:func:`~gateway.services.conversion.sign_credentials`, which returns the status entries
it allocated) -> store and audit (:func:`_save`). The batch API, the exporter's upload
page and ``gateway convert --sign --store`` all go through :func:`issue_many`, which
runs the same steps a chunk of records at a time: one read and one write unit of work
per chunk, so the store's cost per record is a share of a few statements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway import auth, jsontext
from gateway.auth import Principal
from gateway.compliance.whitelist import Whitelist
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
from gateway.services.instance import BULK_STATUS_CHUNK, BULK_STATUS_MOST, Instance, StatusPool
from gateway.services.passports import cease_passport, find_passport, stored_credential
from gateway.services.tenant_policy import TenantRules, tenant_rules
from gateway.services.whitelist import instance_whitelist
from gateway.serving import TURN
from gateway.store import Passports
from gateway.store.identifiers import Identifier, Identifiers
from gateway.store.passports import (
    NewCredential,
    NewIssue,
    NewPassport,
    StoredPassport,
    record_hash,
)

log = logging.getLogger(__name__)

#: Longest idempotency key accepted (the column's width, less room for a line suffix).
MAX_IDEMPOTENCY_KEY = 200
#: Records :func:`issue_many` reads, converts and stores together: large enough that the
#: read and write units of work cost little per record, small enough that outcomes (only
#: told once their chunk is committed) keep streaming.
ISSUE_CHUNK = 64
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
    return jsontext.dumps(credential).decode("utf-8")


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


def _disclosure(draft: PassportDraft, credentials: list[NewCredential]) -> dict[str, Any]:
    """What a passport discloses and what the cross-border policy kept back: field names
    only, never their values (DESIGN §5 Cross-border policy)."""
    return {
        "policy": draft.policy.applied or draft.policy.policy,
        "withheld": list(draft.policy.withheld),
        "aggregated": list(draft.policy.aggregated),
        "released": dict(draft.policy.released),
        "approvals": [
            {"id": a["id"], "reference": a["reference"], "sections": a["sections"]}
            for a in draft.gaps["policy"].get("approvals", [])
        ],
        "credentials": [
            {"id": c.id, "access_group": c.access_group, "format": c.format} for c in credentials
        ],
    }


def _new_issue(
    principal: Principal,
    record: Mapping[str, Any],
    digest: str,
    idempotency_key: str | None,
    draft: PassportDraft,
    signed: Mapping[str, SignedCredential],
    proof_format: str,
) -> NewIssue:
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
    return NewIssue(new, credentials, _disclosure(draft, credentials))


def _save(
    instance: Instance,
    principal: Principal,
    issue: NewIssue,
    signed: Mapping[str, SignedCredential],
    identifier: Identifier,
) -> IssuedPassport:
    """Step "store + audit": the passport, its credentials, the battery's unique product
    identifier and its ``passport.issued`` event (with what it discloses) in one unit of
    work."""
    with instance.db.transaction() as session:
        result = Passports(session).save(
            issue.passport,
            issue.credentials,
            actor=auth.audit_actor(principal),
            disclosure=issue.disclosure,
        )
        if result.created:
            identifiers.keep(session, identifier)
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
        whitelist=instance_whitelist(instance.db),
        policy=rules.policy,
        approvals=rules.approvals,
        at=at,
        identifier=identifier.uri,
        known_passports=known,
    )
    signed = sign_credentials(
        draft, key=instance.key, registry=pool or StatusPool(instance), proof_format=proof_format
    )
    issue = _new_issue(caller, record, digest, idempotency_key, draft, signed, proof_format)
    return _save(instance, caller, issue, signed, identifier)


@dataclass
class _Item:
    """One record of a chunk on its way through :func:`_issue_chunk`."""

    number: int
    record: Mapping[str, Any] | Exception
    key: str | None
    outcome: Outcome | None = None
    digest: str = ""
    identifier: Identifier | None = None
    known: dict[str, str] = field(default_factory=dict)
    issue: NewIssue | None = None
    signed: Mapping[str, SignedCredential] | None = None


def _refused(number: int, exc: Exception) -> Outcome:
    if isinstance(exc, GatewayError):
        return Outcome(number, problem=exc.to_problem(), error=exc)
    log.error("bulk issuance: record %d failed", number, exc_info=exc)
    return Outcome(number, problem=dict(INTERNAL_ERROR))


def _touches(
    instance: Instance, record: Mapping[str, Any] | Exception, key: str | None
) -> set[str]:
    """What a record's issue reads that an earlier record of the same chunk may write:
    its passport, its predecessor's and its idempotency key. A record touching one of
    those starts the next chunk, so it is judged by what is committed, as alone."""
    touched = {f"key:{key}"} if key is not None else set()
    if isinstance(record, Exception):
        return touched
    battery = record.get("battery")
    if isinstance(battery, Mapping):
        for name in ("code", "original_code"):
            value = battery.get(name)
            if isinstance(value, str):
                touched.add(f"code:{value}")
    return touched


def _read_chunk(
    instance: Instance, principal: Principal, items: list[_Item], at: datetime
) -> TenantRules | GatewayError:
    """Step "read" for a chunk, in one unit of work: the earlier passports of its
    idempotency keys and which of its batteries (and their predecessors) have a passport,
    one query each; the tenant's rules and identifier scheme once. Each record is then
    answered as :func:`_read` answers it alone.

    :returns: the tenant's rules, or the error that refuses every record needing them.
    """
    codes: dict[int, str] = {}
    originals: dict[int, str] = {}
    repeated: dict[int, StoredPassport] = {}
    for i, item in enumerate(items):
        record = item.record
        assert not isinstance(record, Exception)
        try:
            codes[i] = instance.passport_id(record["battery"]["code"])
            original = record["battery"].get("original_code")
            if isinstance(original, str):
                originals[i] = instance.passport_id(original)
        except Exception as exc:  # one record's failure must not end the others
            item.outcome = _refused(item.number, exc)
    with instance.db.reading() as session:
        passports = Passports(session)
        earlier = passports.by_idempotency_keys(
            principal.tenant_id, [i.key for i in items if i.key is not None and i.outcome is None]
        )
        existing = passports.existing([*codes.values(), *originals.values()])
        rules: TenantRules | GatewayError
        try:
            rules = tenant_rules(session, principal.tenant_id, at)
        except GatewayError as exc:
            rules = exc
        setting, given = Identifiers(session).for_issue_many(
            principal.tenant_id,
            [str(i.record["battery"]["code"]) for i in items if isinstance(i.record, Mapping)],
        )
        for i, item in enumerate(items):
            if item.outcome is not None:
                continue
            record = item.record
            assert not isinstance(record, Exception)
            found = earlier.get(item.key) if item.key is not None else None
            try:
                if found is not None:
                    if found.record_sha256 != item.digest:
                        raise Conflict(
                            f"Idempotency-Key {item.key!r} was already used for another record",
                            pointer="Idempotency-Key",
                        )
                    repeated[i] = found  # answered from the store below
                    continue
                if codes[i] in existing:
                    raise Conflict(
                        f"battery {record['battery']['code']} already has a passport: {codes[i]}",
                        pointer="/battery/code",
                    )
                if isinstance(rules, GatewayError):
                    raise rules
                # As identifiers.planned, with the scheme and identifiers read for the
                # whole chunk.
                code = str(record["battery"]["code"])
                item.identifier = given.get(code) or identifiers.mint(
                    setting, instance.base_url, principal.tenant_id, record
                )
                if i in originals and originals[i] in existing:
                    item.known = {record["battery"]["original_code"]: originals[i]}
            except Exception as exc:  # one record's failure must not end the others
                item.outcome = _refused(item.number, exc)
    for i, found in repeated.items():
        try:
            items[i].outcome = Outcome(items[i].number, issued=_stored(instance, found))
        except Exception as exc:  # one record's failure must not end the others
            items[i].outcome = _refused(items[i].number, exc)
    return rules


def _write_chunk(instance: Instance, principal: Principal, items: list[_Item]) -> None:
    """Step "store + audit" for a chunk: one unit of work with multi-row inserts. When it
    fails (a concurrent writer took a passport, key or identifier since the read), each
    passport is stored in a unit of work of its own, which answers it as alone."""
    ready = [i for i in items if i.outcome is None and i.issue is not None]
    if not ready:
        return
    try:
        with instance.db.transaction() as session:
            results = Passports(session).save_many(
                [i.issue for i in ready if i.issue is not None], auth.audit_actor(principal)
            )
            Identifiers(session).keep_many([i.identifier for i in ready if i.identifier])
    except Exception:  # answered record by record below
        log.info("bulk issuance: a chunk write failed; storing its passports one by one")
    else:
        for item, result in zip(ready, results, strict=True):
            assert item.signed is not None
            credentials = {group: s.credential for group, s in item.signed.items()}
            item.outcome = Outcome(
                item.number, issued=IssuedPassport(result.passport, credentials, True)
            )
        return
    for item in ready:
        assert item.issue is not None and item.signed is not None and item.identifier
        try:
            issued = _save(instance, principal, item.issue, item.signed, item.identifier)
        except Exception as exc:  # one record's failure must not end the others
            item.outcome = _refused(item.number, exc)
        else:
            item.outcome = Outcome(item.number, issued=issued)


def _issue_chunk(
    instance: Instance,
    principal: Principal,
    items: list[_Item],
    *,
    mapping: str | None,
    proof_format: str,
    pool: StatusPool,
) -> list[Outcome]:
    """Issue a chunk of records whose issues touch nothing in common (see
    :func:`_touches`): read, draft and sign each, write, then tell the outcomes."""
    at = datetime.now(UTC)
    for item in items:
        try:
            if isinstance(item.record, Exception):
                raise item.record
            check_idempotency_key(item.key)
            recycled = recycling(item.record)
            if recycled is not None:
                raise _refuse_recycled(instance, principal, item.record, recycled)
            item.digest = record_hash(dict(item.record))
        except Exception as exc:  # one record's failure must not end the others
            item.outcome = _refused(item.number, exc)
    pending = [i for i in items if i.outcome is None]
    if pending:
        rules = _read_chunk(instance, principal, pending, at)
        # Read once per chunk, like the rules: a chunk is judged by one state of both.
        whitelist: Whitelist | Exception
        try:
            whitelist = instance_whitelist(instance.db)
        except Exception as exc:  # refuses each record that needs it, below
            whitelist = exc
        for item in pending:
            if item.outcome is not None or isinstance(rules, GatewayError):
                continue
            assert not isinstance(item.record, Exception) and item.identifier is not None
            # A served request converting many records (a small batch, a page's upload)
            # lets the requests waiting for its worker's turn start after a slice.
            TURN.share_if_long()
            try:
                if isinstance(whitelist, Exception):
                    raise whitelist
                # The draft (its conversion and documents) is not kept with the item:
                # freed once the credentials are signed, a chunk's drafts never all
                # live at once for the collector to walk.
                draft = draft_passport(
                    item.record,
                    mapping=instance.mapping(mapping or instance.settings.mapping),
                    base_url=instance.base_url,
                    whitelist=whitelist,
                    policy=rules.policy,
                    approvals=rules.approvals,
                    at=at,
                    identifier=item.identifier.uri,
                    known_passports=item.known,
                )
                item.signed = sign_credentials(
                    draft, key=instance.key, registry=pool, proof_format=proof_format
                )
                item.issue = _new_issue(
                    principal,
                    item.record,
                    item.digest,
                    item.key,
                    draft,
                    item.signed,
                    proof_format,
                )
            except Exception as exc:  # one record's failure must not end the others
                item.outcome = _refused(item.number, exc)
        _write_chunk(instance, principal, pending)
    outcomes = []
    for item in items:
        assert item.outcome is not None
        outcomes.append(item.outcome)
    return outcomes


def issue_many(
    instance: Instance,
    records: Iterable[RecordItem],
    *,
    principal: Principal | None,
    mapping: str | None = None,
    proof_format: str = "di",
    idempotency_key: Callable[[int], str | None] | None = None,
) -> Iterator[Outcome]:
    """Issue many records, yielding one outcome per record once it is committed; one
    record's failure never ends the others.

    Records go :data:`ISSUE_CHUNK` at a time through one read and one write unit of work
    (a record that touches a passport or key an earlier one of its chunk writes starts
    the next chunk, so each is answered as if issued alone: a repeated key is
    ``repeated``, a second passport for a battery is refused). Status entries are
    reserved :data:`BULK_STATUS_CHUNK` credentials at a time, twice as many each time
    up to :data:`BULK_STATUS_MOST`.

    :param records: ``(number, record)`` pairs; a record that could not be read comes as
        the exception that says why, and is refused with it.
    :param idempotency_key: the key of record ``number`` (``None``: no key).
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue
        (before any record is read).
    """
    caller = require_issuer(principal)
    proof_format = formats.proof_format(proof_format)
    pool = StatusPool(instance, chunk=BULK_STATUS_CHUNK, most=BULK_STATUS_MOST)
    chunk: list[_Item] = []
    touched: set[str] = set()
    source = iter(records)
    while True:
        try:
            number, record = next(source)
        except StopIteration:
            break
        except Exception:
            # The source failed (a client that stalled mid-stream): what it sent before
            # is still issued and told.
            yield from _issue_chunk(
                instance, caller, chunk, mapping=mapping, proof_format=proof_format, pool=pool
            )
            raise
        key = idempotency_key(number) if idempotency_key else None
        touches = _touches(instance, record, key)
        if len(chunk) >= ISSUE_CHUNK or touches & touched:
            yield from _issue_chunk(
                instance, caller, chunk, mapping=mapping, proof_format=proof_format, pool=pool
            )
            chunk, touched = [], set()
        chunk.append(_Item(number, record, key))
        touched |= touches
    if chunk:
        yield from _issue_chunk(
            instance, caller, chunk, mapping=mapping, proof_format=proof_format, pool=pool
        )
