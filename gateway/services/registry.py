"""Readiness for the EU product-passport registry (Implementing Regulation (EU) 2026/1778).

Batteries are registered item by item (Art. 77(10) of Regulation (EU) 2023/1542): the
unique product identifier, the commodity code, the economic operator and facility
identifiers, the passport's URL and the URL of a back-up copy. The registry keeps a hash
of each passport version and answers with a registration identifier and a proof of
registration under a qualified electronic seal.

**Content hash.** Per passport version: SHA-256 (hex) of the RFC 8785 (JCS) serialisation
of the passport's public credential (its Annex XIII point 1 section; ``public`` for
passports issued under the three earlier access groups) without its ``proof``; for a
``vc+jwt`` credential, of the JWS payload. Both proof formats of one credential give the
same hash, and any change of the passport's public content, status list entry or validity
gives another.

**Payload fields and where they come from.** ``uniqueProductIdentifier``: the
battery's EN 18219 identifier as its public credential signed it
(:mod:`gateway.services.identifiers`), the passport URL for passports issued before.
``commodityCode``: the tenant's default, else CN 8507 60 00 (lithium-ion accumulators)
when the passport's chemistry is a lithium-ion one; the record model has no commodity
code of its own yet.
``economicOperatorId``: the passport's EU operator identifier, else its manufacturer
identifier, else the tenant's default. ``facilityId``: the record's plant identifier (as
far as the tenant's data policy lets it leave), else the tenant's default.
``backupUrl``: the passport's back-up reference, else the tenant's back-up base URL
followed by the battery code. A payload names what it lacks in ``missing`` and is
``ready`` only without gaps.

**No registry client yet.** The registry's API is not publicly documented, so the gateway
has no network code for it: :class:`RegistryClient` is the interface a client will
implement, and operators register by hand (or by their own tooling from the bulk export)
and record the registry's answer here.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from gateway import auth
from gateway.annex_xiii import PUBLIC_SECTION
from gateway.auth import Principal
from gateway.credentials import jcs
from gateway.credentials.claims import credential_claims
from gateway.csv_cells import safe_row
from gateway.errors import Conflict, InvalidInput
from gateway.invisible_chars import INVISIBLE
from gateway.policy.table import apply_policy
from gateway.services import identifiers
from gateway.services.instance import Instance
from gateway.services.tenant_policy import managed_tenant, tenant_rules
from gateway.store import Database, Passports, Tenants
from gateway.store.passports import StoredCredential, StoredPassport
from gateway.store.registrations import (
    NewRegistration,
    Registrations,
    RegistryProfile,
)
from gateway.transform import en18223
from gateway.vocab.catalog import load_catalog
from gateway.vocab.forms import plain_value
from gateway.vocab.loader import passport_context_version

#: The sections whose credential a registration hashes, in order of preference.
PUBLIC_SECTIONS = (PUBLIC_SECTION, "public")
#: CN 8507 60 00: lithium-ion accumulators.
LITHIUM_ION_CN = "85076000"
_LITHIUM_ION = re.compile(r"NCM|NMC|NCA|LFP|LMFP|LMO|LCO|LTO|LI-?ION|LITHIUM", re.IGNORECASE)
#: The registry opened on 20 July 2026; no registration is older.
REGISTRY_OPENED = datetime(2026, 7, 20, tzinfo=UTC)
#: Largest proof file kept (a sealed PDF or XML).
MAX_PROOF_BYTES = 1024 * 1024
#: Passports read per unit of work in a bulk export.
PAGE = 500
PAYLOAD_FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "uniqueProductIdentifier",
    "granularity",
    "commodityCode",
    "economicOperatorId",
    "facilityId",
    "passportUrl",
    "backupUrl",
    "dppStatus",
    "lastUpdate",
    "contentSha256",
    "registered",
    "ready",
    "missing",
)
_REQUIRED = ("commodityCode", "economicOperatorId", "facilityId", "backupUrl")
#: EN 18219: identifiers of operators and facilities are at most 70 characters.
MAX_IDENTIFIER = 70
_IDENTIFIER = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_COMMODITY = re.compile(r"[0-9]{6}(?:[0-9]{2})?")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FILE_NAME = re.compile(r"[^\x00-\x1f\x7f/\\]{1,255}")


@dataclass(frozen=True)
class RegistryReceipt:
    """The registry's answer to one registration."""

    registration_id: str
    registered_at: datetime
    proof_file_name: str
    proof: bytes


class RegistryClient(Protocol):
    """A client of the EU registry. None ships: the registry's API is not publicly
    documented; an implementation submits a payload of :func:`registration_payload` and
    returns the registry's receipt, which :func:`submit_registration` records."""

    def register(self, payload: Mapping[str, Any]) -> RegistryReceipt: ...


# -- the content hash and the payload ------------------------------------------------------


def content_hash(credential: Mapping[str, Any] | str) -> str:
    """The content hash of a passport version (see the module docstring).

    :param credential: its public credential: a Data Integrity dict or a compact JWS.
    """
    claims = credential_claims(credential)
    claims.pop("proof", None)
    return hashlib.sha256(jcs.canonicalize(claims)).hexdigest()


def _body(stored: StoredCredential) -> dict[str, Any] | str:
    if stored.format == "jwt":
        return stored.body
    body: dict[str, Any] = json.loads(stored.body)
    return body


def public_attributes(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The catalog attributes of a public credential, by catalog key."""
    subject = credential_claims(credential).get("credentialSubject")
    by_term = load_catalog().by_term
    if not isinstance(subject, Mapping):
        return {}
    return {by_term[t].key: plain_value(v) for t, v in subject.items() if t in by_term}


def commodity_code(attributes: Mapping[str, Any], profile: RegistryProfile) -> str | None:
    """The commodity code of a passport: the tenant's default, else CN 8507 60 00 for a
    lithium-ion chemistry."""
    if profile.commodity_code:
        return profile.commodity_code
    chemistry = attributes.get("battery_chemistry")
    if isinstance(chemistry, str) and _LITHIUM_ION.search(chemistry):
        return LITHIUM_ION_CN
    return None


def _backup_url(attributes: Mapping[str, Any], profile: RegistryProfile, code: str) -> str | None:
    reference = attributes.get("passport_backup_reference")
    if isinstance(reference, str) and reference:
        return reference
    if profile.backup_url_base:
        return f"{profile.backup_url_base.rstrip('/')}/{code}"
    return None


def registration_payload(
    passport: StoredPassport,
    credential: Mapping[str, Any] | str,
    profile: RegistryProfile,
    *,
    facility_id: str | None,
    registered: bool,
) -> dict[str, Any]:
    """The registration payload of one passport version.

    :param credential: the passport's public credential (what the hash is taken of).
    :param facility_id: the record's facility identifier, if the data policy lets it leave.
    :param registered: whether a registration of this version is recorded.
    """
    attributes = public_attributes(credential)
    payload: dict[str, Any] = {
        "uniqueProductIdentifier": (
            identifiers.signed_identifier(credential_claims(credential)) or passport.id
        ),
        "granularity": en18223.GRANULARITY,
        "commodityCode": commodity_code(attributes, profile),
        "economicOperatorId": en18223.economic_operator(attributes) or profile.economic_operator_id,
        "facilityId": facility_id or profile.facility_id,
        "passportUrl": passport.id,
        "backupUrl": _backup_url(attributes, profile, passport.battery_code),
        "dppStatus": en18223.dpp_status(passport.status),
        "lastUpdate": en18223.format_time(_issued_at(credential_claims(credential), passport)),
        "contentSha256": content_hash(credential),
        "registered": registered,
    }
    missing = [name for name in _REQUIRED if not payload[name]]
    payload["ready"] = not missing
    payload["missing"] = missing
    return payload


# -- reading ---------------------------------------------------------------------------------


def require_registrar(principal: Principal | None, what: str) -> Principal:
    return auth.require(
        principal,
        principal is not None and principal.role in (auth.EXPORTER, auth.ADMIN),
        what,
    )


def _own_passport(session: Any, instance: Instance, caller: Principal, code: str) -> StoredPassport:
    """The passport of ``code`` if the caller's tenant issued it (an admin: any)."""
    scope = None if auth.may_administer(caller) else caller.tenant_id
    return instance.passport(session, code, scope)


def _facility(session: Any, passport: StoredPassport) -> str | None:
    rules = tenant_rules(session, passport.tenant_id, datetime.now(UTC))
    exportable, _ = apply_policy(passport.record, rules.policy)
    return en18223.facility_id(exportable)


def _payload(session: Any, passport: StoredPassport, stored: StoredCredential) -> dict[str, Any]:
    registrations = Registrations(session)
    credential = _body(stored)
    registered = (passport.id, content_hash(credential)) in registrations.registered([passport.id])
    return registration_payload(
        passport,
        credential,
        registrations.profile(passport.tenant_id),
        facility_id=_facility(session, passport),
        registered=registered,
    )


def passport_payload(instance: Instance, principal: Principal | None, code: str) -> dict[str, Any]:
    """The registration payload of a passport, for its exporter or an admin.

    :raises Unauthorized: no caller. :raises Forbidden: another role.
    :raises NotFound: no passport of the caller's tenant for this code.
    """
    caller = require_registrar(principal, "read registration payloads")
    with instance.db.reading() as session:
        passport = _own_passport(session, instance, caller, code)
        stored = _public_credential(session, passport)
        return _payload(session, passport, stored)


def _public_credential(session: Any, passport: StoredPassport) -> StoredCredential:
    found = Registrations(session).public_credentials([passport.id], PUBLIC_SECTIONS)
    if passport.id not in found:
        raise Conflict(f"passport {passport.battery_code} has no public credential", pointer="code")
    return found[passport.id]


def passport_facts(session: Any, passport: StoredPassport) -> en18223.PassportFacts:
    """What the EN 18223 metadata says of a stored passport version, read in an open
    session: its public credential names the context and the operator, the record (as
    far as the tenant's data policy lets it leave) or the tenant's defaults the facility.

    :raises Conflict: the passport has no public credential.
    """
    credential = _body(_public_credential(session, passport))
    profile = Registrations(session).profile(passport.tenant_id)
    attributes = public_attributes(credential)
    claims = credential_claims(credential)
    context = claims.get("@context")
    contexts = [c for c in context if isinstance(c, str)] if isinstance(context, list) else []
    return en18223.PassportFacts(
        passport_id=passport.id,
        unique_product_identifier=identifiers.signed_identifier(claims) or passport.id,
        status=passport.status,
        last_update=_issued_at(claims, passport),
        economic_operator_id=en18223.economic_operator(attributes) or profile.economic_operator_id,
        facility_id=_facility(session, passport) or profile.facility_id,
        context=next((c for c in contexts if passport_context_version(c) is not None), ""),
    )


def _issued_at(claims: Mapping[str, Any], passport: StoredPassport) -> datetime:
    """When a passport version was issued: the ``lastUpdate`` its public credential
    signed, so that the live metadata and the signed block agree; for passports issued
    before the block existed, when the passport was stored."""
    subject = claims.get("credentialSubject")
    signed = subject.get("lastUpdate") if isinstance(subject, Mapping) else None
    if isinstance(signed, str) and len(signed) <= 40:
        try:
            moment = datetime.fromisoformat(signed)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    return passport.created_at


def passport_metadata(instance: Instance, code: str) -> dict[str, Any]:
    """The EN 18223 metadata block of a passport; public, like its point 1 section.

    :raises NotFound: no passport for this code.
    """
    with instance.db.reading() as session:
        passport = instance.passport(session, code)
        return en18223.metadata(passport_facts(session, passport))


def passport_registrations(
    instance: Instance, principal: Principal | None, code: str
) -> list[dict[str, Any]]:
    """The registrations recorded for a passport, oldest first.

    :raises Unauthorized: no caller. :raises Forbidden: another role than exporter or
        admin. :raises NotFound: no passport of the caller's tenant for this code.
    """
    caller = require_registrar(principal, "read registrations")
    with instance.db.reading() as session:
        passport = _own_passport(session, instance, caller, code)
        return [r.as_json() for r in Registrations(session).for_passport(passport.id)]


def payload_rows(
    instance: Instance,
    principal: Principal | None,
    *,
    tenant: str | None = None,
    unregistered: bool = False,
) -> Iterator[dict[str, Any]]:
    """The payloads of every passport of a tenant, a page per unit of work.

    :param tenant: an admin names the tenant (default: every tenant).
    :param unregistered: only passport versions without a recorded registration.
    :raises Unauthorized: no caller. :raises Forbidden: another role, or an exporter
        naming another tenant. :raises NotFound: no such tenant.
    """
    caller = require_registrar(principal, "export registration payloads")
    with instance.db.reading() as session:
        if tenant is not None:
            _, scope = managed_tenant(session, caller, tenant, "export registration payloads")
        elif auth.may_administer(caller):
            scope = None
        else:
            scope = caller.tenant_id
    return _pages(instance.db, scope, unregistered)


def _pages(db: Database, scope: int | None, unregistered: bool) -> Iterator[dict[str, Any]]:
    after: str | None = None
    while True:
        with db.reading() as session:
            page = Passports(session).listing(scope, after=after, limit=PAGE)
            if not page:
                return
            ids = [p.id for p in page]
            credentials = Registrations(session).public_credentials(ids, PUBLIC_SECTIONS)
            rows = [_payload(session, p, credentials[p.id]) for p in page if p.id in credentials]
        after = page[-1].id
        yield from (r for r in rows if not (unregistered and r["registered"]))


def payload_text(rows: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    """Payloads as JSON Lines (one object per line) or CSV (a header row first; lists
    joined with spaces; cells a spreadsheet would run as formulas neutralised).

    :raises InvalidInput: another format.
    """
    if fmt not in PAYLOAD_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(PAYLOAD_FORMATS)}", pointer="format")
    if fmt == "jsonl":
        return (json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return _csv(rows)


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        cells = {
            k: " ".join(v) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else v
            for k, v in row.items()
        }
        writer.writerow(safe_row(cells))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


# -- changing ---------------------------------------------------------------------------------


def _text(body: Mapping[str, Any], name: str, *, limit: int = MAX_IDENTIFIER) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(
            f"/{name}: 1-{limit} printable ASCII characters, no leading or trailing space",
            pointer=f"/{name}",
        )
    return value


def _time(value: object, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(f"/{name}: an RFC 3339 date-time with its offset", pointer=f"/{name}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(f"/{name}: an RFC 3339 date-time with its offset", pointer=f"/{name}")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00: no UTC year 1-9999
        moment = None
    if moment is None or not REGISTRY_OPENED <= moment <= datetime.now(UTC) + timedelta(minutes=5):
        raise InvalidInput(
            f"/{name}: must lie between the registry's opening (2026-07-20) and now",
            pointer=f"/{name}",
        )
    return moment


def check_profile(body: Mapping[str, Any], tenant_id: int) -> RegistryProfile:
    """A tenant's registration defaults from a request body.

    :raises InvalidInput: a field that breaks its rule, named.
    """
    if not isinstance(body, Mapping):
        raise InvalidInput("the body must be an object", pointer="/")
    code = body.get("commodityCode")
    if code not in (None, ""):
        digits = re.sub(r"[ .]", "", code) if isinstance(code, str) and len(code) <= 16 else ""
        if not _COMMODITY.fullmatch(digits):
            raise InvalidInput(
                "/commodityCode: a CN (8 digits) or HS (6 digits) code, e.g. 8507 60 00",
                pointer="/commodityCode",
            )
        code = digits
    base = _text(body, "backupUrlBase", limit=400)
    if base is not None and not re.fullmatch(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", base):
        raise InvalidInput(
            "/backupUrlBase: an http(s) URL with no query or fragment", pointer="/backupUrlBase"
        )
    return RegistryProfile(
        tenant_id,
        economic_operator_id=_text(body, "economicOperatorId"),
        facility_id=_text(body, "facilityId"),
        commodity_code=code or None,
        backup_url_base=base,
    )


def registry_profile(
    db: Database, principal: Principal | None, tenant: str | None = None
) -> dict[str, Any]:
    """A tenant's registration defaults (the caller's own; an admin names one).

    :raises Unauthorized: no caller. :raises Forbidden: not the tenant's exporter or an
        admin. :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        _, tenant_id = managed_tenant(session, principal, tenant, "read registry defaults")
        name = Tenants(session).get_by_id(tenant_id).name
        return {"tenant": name, **Registrations(session).profile(tenant_id).as_json()}


def set_registry_profile(
    db: Database, principal: Principal | None, body: Mapping[str, Any], tenant: str | None = None
) -> dict[str, Any]:
    """Replace a tenant's registration defaults (audited as ``registry.profile_set``).

    :raises Unauthorized: no caller. :raises Forbidden: not the tenant's exporter or an
        admin. :raises NotFound: no such tenant. :raises InvalidInput: a bad field.
    """
    with db.transaction() as session:
        caller, tenant_id = managed_tenant(session, principal, tenant, "set registry defaults")
        profile = check_profile(body, tenant_id)
        name = Tenants(session).get_by_id(tenant_id).name
        stored = Registrations(session).set_profile(profile, name, auth.audit_actor(caller))
        return {"tenant": name, **stored.as_json()}


def _proof(body: Mapping[str, Any]) -> tuple[str, str, bytes | None]:
    proof = body.get("proof")
    if not isinstance(proof, Mapping):
        raise InvalidInput(
            "/proof: an object with fileName and sha256 or content", pointer="/proof"
        )
    name = proof.get("fileName")
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name) or INVISIBLE.search(name):
        raise InvalidInput(
            "/proof/fileName: 1-255 characters, no path separator or control character",
            pointer="/proof/fileName",
        )
    content, digest = proof.get("content"), proof.get("sha256")
    if (content is None) == (digest is None):
        raise InvalidInput(
            "/proof: give the file as content (base64) or its sha256, not both",
            pointer="/proof",
        )
    if content is not None:
        if not isinstance(content, str) or len(content) > (MAX_PROOF_BYTES // 3 + 1) * 4:
            raise InvalidInput(
                f"/proof/content: base64 of at most {MAX_PROOF_BYTES} bytes",
                pointer="/proof/content",
            )
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("/proof/content: not base64", pointer="/proof/content") from None
        if not data:
            raise InvalidInput("/proof/content: the file is empty", pointer="/proof/content")
        return name, hashlib.sha256(data).hexdigest(), data
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise InvalidInput("/proof/sha256: 64 lower-case hex digits", pointer="/proof/sha256")
    return name, digest, None


def record_registration(
    instance: Instance, principal: Principal | None, code: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Record the registry's answer for the current version of a passport (audited as
    ``registry.recorded``).

    :param body: ``registrationId``, ``registeredAt`` (RFC 3339), ``proof``
        (``fileName`` and ``content`` in base64 or ``sha256``), and optionally
        ``contentSha256``: the hash the operator registered, which must be this version's.
    :raises Unauthorized: no caller. :raises Forbidden: another role than exporter or
        admin. :raises NotFound: no passport of the caller's tenant for this code.
    :raises InvalidInput: a bad field (named). :raises Conflict: this version or this
        registration id is already recorded, or the hash registered is another version's.
    """
    caller = require_registrar(principal, "record registrations")
    if not isinstance(body, Mapping):
        raise InvalidInput("the body must be an object", pointer="/")
    registration_id = _text(body, "registrationId", limit=200)
    if registration_id is None:
        raise InvalidInput("/registrationId: required", pointer="/registrationId")
    registered_at = _time(body.get("registeredAt"), "registeredAt")
    file_name, proof_sha256, proof = _proof(body)
    claimed = body.get("contentSha256")
    if claimed is not None and (not isinstance(claimed, str) or not _HEX64.fullmatch(claimed)):
        raise InvalidInput("/contentSha256: 64 lower-case hex digits", pointer="/contentSha256")
    with instance.db.transaction() as session:
        passport = _own_passport(session, instance, caller, code)
        current = content_hash(_body(_public_credential(session, passport)))
        if claimed is not None and claimed != current:
            raise Conflict(
                "/contentSha256: not the content hash of this passport's current version",
                pointer="/contentSha256",
            )
        stored = Registrations(session).record(
            NewRegistration(
                passport_id=passport.id,
                tenant_id=passport.tenant_id,
                registration_id=registration_id,
                content_sha256=current,
                proof_file_name=file_name,
                proof_sha256=proof_sha256,
                registered_at=registered_at,
                proof=proof,
            ),
            auth.audit_actor(caller),
        )
        return stored.as_json()


def submit_registration(
    instance: Instance, principal: Principal | None, code: str, client: RegistryClient
) -> dict[str, Any]:
    """Register a passport through a registry client and record the receipt.

    :raises Conflict: the payload is not ready (it names what is missing).
    """
    payload = passport_payload(instance, principal, code)
    if not payload["ready"]:
        raise Conflict(
            f"the registration payload lacks {', '.join(payload['missing'])}",
            pointer="code",
            missing=payload["missing"],
        )
    receipt = client.register(payload)
    return record_registration(
        instance,
        principal,
        code,
        {
            "registrationId": receipt.registration_id,
            "registeredAt": receipt.registered_at.astimezone(UTC).isoformat(),
            "contentSha256": payload["contentSha256"],
            "proof": {
                "fileName": receipt.proof_file_name,
                "content": base64.b64encode(receipt.proof).decode("ascii"),
            },
        },
    )
