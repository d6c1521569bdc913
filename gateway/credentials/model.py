"""W3C Verifiable Credentials Data Model 2.0: building battery passport credentials and
checking the structural rules of any credential.

A passport credential carries one section of one passport: the attributes of one
Annex XIII point (``annex-xiii-N``, see ``gateway.annex_xiii``), or, for passports issued
before, one of the three earlier access groups. The credentials of all sections share
the passport id as ``credentialSubject.id``; ``accessGroup``, ``exportApproval`` and the
mapping set / version / hash describe the credential (not the battery), so they sit at
the credential's top level, where a merged graph of the credentials keeps them apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway import jsonpointer
from gateway.annex_xiii import ALL_SECTIONS, is_section
from gateway.credentials.checks import Check
from gateway.credentials.lexical import PLAIN_FRAGMENT, is_absolute_iri
from gateway.credentials.uuid7 import uuid7
from gateway.errors import CredentialError
from gateway.jsontext import MAX_DEPTH
from gateway.jsonvalues import first_float
from gateway.vocab.loader import (
    CREDENTIALS_V2,
    current_passport_context,
    passport_contexts,
    pinned_contexts,
)

VC_TYPE = "VerifiableCredential"
PASSPORT_CREDENTIAL_TYPE = "BatteryPassportCredential"

# VC DM 2.0 §4.9 "Representing Time": XMLSCHEMA11-2 dateTimeStamp; the data model's own
# regex leaves the offset optional and says such values are read as UTC.
_DATETIME = re.compile(
    r"-?(?:[1-9][0-9]{3,}|0[0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
)
#: Members whose values are JSON literals (typed ``@json`` in the VC v2 context): an
#: ``id`` or ``type`` inside them is data, not a node of the credential.
_JSON_LITERALS = frozenset({"@context", "jsonSchema", "jwk", "_sd"})
# VC DM 2.0 §4.x: these properties hold objects that MUST each have a type.
_TYPED_PROPERTIES = (
    "credentialStatus",
    "credentialSchema",
    "evidence",
    "refreshService",
    "termsOfUse",
)


def parse_datetime(value: object, *, field: str = "") -> datetime:
    """Parse a VC DM 2.0 date-time stamp into an aware UTC datetime.

    :param value: e.g. ``"2024-01-01T00:00:00Z"``; without an offset it is read as UTC.
    :param field: JSON pointer named in the error.
    :returns: the instant, in UTC.
    :raises CredentialError: not a string matching the dateTimeStamp grammar.
    """
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise CredentialError(
            f"{value!r} is not an XML Schema dateTimeStamp (VC DM 2.0 §4.9)", pointer=field or None
        )
    text = value
    rollover = "T24:00:00" in text
    if rollover:
        text = text.replace("T24:00:00", "T00:00:00")
    date_part, _, rest = text.partition("T")
    clock, frac, tz = rest[:8], "", rest[8:]
    if tz.startswith("."):
        digits = re.match(r"\.[0-9]+", tz)
        assert digits is not None
        frac, tz = digits.group(0)[:7], tz[digits.end() :]
    if date_part.startswith("-") or len(date_part) > 10:
        raise CredentialError(f"{value!r} is outside the years 0001-9999", pointer=field or None)
    parsed = datetime.fromisoformat(f"{date_part}T{clock}{frac}{tz or 'Z'}")
    if rollover:
        parsed += timedelta(days=1)
    return parsed.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """Write an instant as a dateTimeStamp in UTC, whole seconds: ``2024-01-01T00:00:00Z``.

    :param moment: an aware datetime (naive ones are taken as UTC).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_credential(
    subject: Mapping[str, Any],
    *,
    issuer: str,
    passport_id: str,
    access_group: str,
    mapping: Mapping[str, str],
    status: list[dict[str, Any]] | None,
    valid_from: str,
    valid_until: str | None = None,
    credential_id: str | None = None,
    export_approvals: Sequence[str] = (),
    subject_built: bool = False,
) -> dict[str, Any]:
    """Build an unsigned battery passport credential (VC DM 2.0).

    :param subject: the passport document of one section; its ``@context`` is dropped
        (the credential's contexts define its terms): the credential uses the passport
        context version it names, or the newest one.
    :param issuer: the issuer DID (``did:web:...`` or ``did:key:...``).
    :param passport_id: the passport URL; becomes ``credentialSubject.id``, shared by the
        credentials of all sections.
    :param access_group: the section, ``annex-xiii-1`` to ``annex-xiii-4``; the earlier
        groups ``public``, ``legitimate_interest`` and ``authorities`` are accepted so
        that passports issued under them can be built again.
    :param mapping: ``{"set": ..., "version": ..., "hash": ...}`` of the mapping used.
    :param status: ``BitstringStatusListEntry`` objects (revocation, suspension), or None.
    :param valid_from: dateTimeStamp from which the data is valid.
    :param valid_until: optional dateTimeStamp until which the data is valid.
    :param credential_id: the credential id; a fresh ``urn:uuid:`` (version 7,
        time-ordered: :mod:`gateway.credentials.uuid7`) by default.
    :param export_approvals: references of the export approvals under which BMS health
        data in this credential leaves China; written as ``exportApproval`` (a string for
        one, a list for more), which needs a passport context that defines it.
    :param subject_built: the subject is a document the gateway built from a record
        (:func:`gateway.transform.jsonld.passport_documents`), whose every value the
        mapping engine checked against its attribute's JSON type, so it holds no float
        and is not scanned for one; a subject from anywhere else is.
    :returns: the credential as a JSON-ready dict.
    :raises CredentialError: a parameter breaks VC DM 2.0 or the passport rules; the
        message names the field.
    """
    if not is_section(access_group):
        raise CredentialError(
            f"access group {access_group!r} is not one of {', '.join(ALL_SECTIONS)}",
            pointer="/accessGroup",
        )
    approvals = list(export_approvals)
    for i, reference in enumerate(approvals):
        if not isinstance(reference, str) or not reference.strip():
            raise CredentialError(
                "an export approval reference must be a non-empty string",
                pointer=f"/exportApproval/{i}" if len(approvals) > 1 else "/exportApproval",
            )
    for name, pointer in ((issuer, "/issuer"), (passport_id, "/credentialSubject/id")):
        if not is_absolute_iri(name):
            raise CredentialError(f"{name!r} is not an absolute URL", pointer=pointer)
    missing = [k for k in ("set", "version", "hash") if not mapping.get(k)]
    if missing:
        raise CredentialError(f"mapping lacks {', '.join(missing)}", pointer="/mappingSet")
    start = parse_datetime(valid_from, field="/validFrom")
    if valid_until is not None and parse_datetime(valid_until, field="/validUntil") < start:
        raise CredentialError("validUntil is before validFrom", pointer="/validUntil")
    body = {k: v for k, v in subject.items() if k != "@context"}
    # The passport context version the subject was written with defines its terms.
    named = [c for c in as_list(subject.get("@context")) if c in passport_contexts()]
    passport_context = named[-1] if named else current_passport_context()
    if approvals and not _defines_term(passport_context, "exportApproval"):
        raise CredentialError(
            f"{passport_context} does not define exportApproval; an approval needs a newer "
            "passport context",
            pointer="/exportApproval",
        )
    if body.get("id", passport_id) != passport_id:
        raise CredentialError(
            f"subject id {body['id']!r} differs from the passport id {passport_id!r}",
            pointer="/credentialSubject/id",
        )
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, passport_context],
        "id": credential_id or f"urn:uuid:{uuid7()}",
        "type": [VC_TYPE, PASSPORT_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["accessGroup"] = access_group
    if approvals:
        credential["exportApproval"] = approvals[0] if len(approvals) == 1 else approvals
    credential["mappingSet"] = mapping["set"]
    credential["mappingVersion"] = mapping["version"]
    credential["mappingHash"] = mapping["hash"]
    credential["credentialSubject"] = {"id": passport_id, **body}
    if status:
        credential["credentialStatus"] = status[0] if len(status) == 1 else list(status)
    found = (
        first_float(credential.get("credentialStatus"), "/credentialStatus")
        if subject_built
        else first_float(credential)
    )
    if found is not None:
        raise CredentialError(
            "JSON floats are not allowed in credentials; write decimals as strings",
            pointer=found,
        )
    return credential


def _defines_term(context_url: str, term: str) -> bool:
    """Whether the pinned context at ``context_url`` defines ``term``."""
    document = pinned_contexts().get(context_url, {})
    definitions = document.get("@context", {})
    return isinstance(definitions, Mapping) and term in definitions


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value as a list: ``None`` -> ``[]``, a single value -> ``[value]``."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """The issuer URL of a credential (``issuer`` or ``issuer.id``), or None if malformed."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _is_url(value: Any) -> bool:
    # A URL in VC DM 2.0 is any absolute IRI (RFC 3987), well-formed.
    return is_absolute_iri(value)


def _is_node_url(value: Any, urls: set[str]) -> bool:
    """:func:`_is_url`, answered without parsing again for a node of a document already
    walked: an id that is a fragment-free URL of ``urls`` with a plain fragment (a
    passport's quantities are ``<passport id>#<term>``, some forty in a credential).
    Fragment-free URLs found are added to ``urls``."""
    if type(value) is not str:
        return False
    base, hash_, fragment = value.partition("#")
    if hash_ and base in urls and PLAIN_FRAGMENT.fullmatch(fragment):
        return True
    if not is_absolute_iri(value):
        return False
    if not hash_:
        urls.add(value)
    return True


def _container(value: Any) -> bool:
    # dict and str first: an ABC check costs several times a type test.
    kind = type(value)
    return kind is dict or kind is list or (kind is not str and isinstance(value, list | Mapping))


def _node_problems(
    value: Any, path: tuple[object, ...], out: list[str], urls: set[str], depth: int = 0
) -> None:
    """Every ``id`` that is not a URL and every ``type`` that is neither a term nor a URL
    (VC DM 2.0 §4.4, §4.5), at any depth, by JSON pointer. (``path``: the tokens down to
    ``value``; a pointer is written only for a problem, since every credential verified
    or issued is walked whole. ``urls``: the fragment-free ids found to be URLs.)"""
    if depth > MAX_DEPTH or len(out) >= 20:
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            if _container(item):
                _node_problems(item, (*path, i), out, urls, depth + 1)
        return
    if not isinstance(value, Mapping):
        return
    for key, item in value.items():
        if key in _JSON_LITERALS:
            continue
        if key in ("id", "@id"):
            if not _is_node_url(item, urls):
                out.append(f"{jsonpointer.join((*path, key))} must be a URL (VC DM 2.0 §4.4)")
            continue
        if key in ("type", "@type"):
            for j, name in enumerate(as_list(item)):
                if (
                    not isinstance(name, str)
                    or not name
                    or (":" in name and not is_absolute_iri(name))
                ):
                    where = (*path, key, j) if isinstance(item, list) else (*path, key)
                    out.append(
                        f"{jsonpointer.join(where)} must be a term or a URL (VC DM 2.0 §4.5)"
                    )
            continue
        if _container(item):
            _node_problems(item, (*path, key), out, urls, depth + 1)


def structure_checks(credential: Mapping[str, Any]) -> list[Check]:
    """Check the structural rules of VC DM 2.0 (§4) on a credential.

    :param credential: the credential (its proof, if any, is ignored).
    :returns: one :class:`Check` per rule, ``vc.*`` ids; never raises.
    """
    checks: list[Check] = []

    def rule(check_id: str, problems: Sequence[str], note: str = "") -> None:
        checks.append(Check(check_id, not problems, "; ".join(problems) or note))

    contexts = credential.get("@context")
    rule(
        "vc.context",
        []
        if isinstance(contexts, list) and contexts and contexts[0] == CREDENTIALS_V2
        else [f"/@context must be an array whose first item is {CREDENTIALS_V2} (VC DM 2.0 §4.3)"],
    )
    types = as_list(credential.get("type"))
    rule(
        "vc.type",
        [] if VC_TYPE in types else ["/type must include VerifiableCredential (VC DM 2.0 §4.5)"],
    )
    issuer = credential.get("issuer")
    rule(
        "vc.issuer",
        []
        if _is_url(issuer_id(credential)) and not isinstance(issuer, list)
        else ["/issuer must be one URL or an object whose id is a URL (VC DM 2.0 §4.7)"],
    )
    subjects = as_list(credential.get("credentialSubject"))
    rule(
        "vc.subject",
        []
        if subjects and all(isinstance(s, Mapping) and s for s in subjects)
        else ["/credentialSubject must be one or more non-empty objects (VC DM 2.0 §4.8)"],
    )
    problems = []
    if "id" in credential and not _is_url(credential["id"]):
        problems.append("/id must be a single URL (VC DM 2.0 §4.4)")
    rule("vc.id", problems)
    problems = []
    _node_problems(
        {k: v for k, v in credential.items() if k not in ("id", "proof")}, (), problems, set()
    )
    rule("vc.ids-and-types", problems)
    problems = []
    moments: dict[str, datetime] = {}
    for name in ("validFrom", "validUntil"):
        if name in credential:
            try:
                moments[name] = parse_datetime(credential[name], field=f"/{name}")
            except CredentialError as e:
                problems.append(str(e))
    if len(moments) == 2 and moments["validFrom"] > moments["validUntil"]:
        problems.append("/validUntil is before /validFrom (VC DM 2.0 §4.9)")
    for legacy in ("issuanceDate", "expirationDate"):
        if legacy in credential:
            problems.append(f"/{legacy} is VC 1.1; the v2 context uses validFrom/validUntil")
    rule("vc.validity-dates", problems)
    problems = []
    for name in _TYPED_PROPERTIES:
        for i, item in enumerate(as_list(credential.get(name))):
            where = f"/{name}" if not isinstance(credential.get(name), list) else f"/{name}/{i}"
            if not isinstance(item, Mapping) or not item.get("type"):
                problems.append(f"{where} must be an object with a type")
            elif name == "credentialSchema" and not _is_url(item.get("id")):
                problems.append(f"{where}/id must be a URL")
            elif name == "credentialStatus" and "id" in item and not _is_url(item["id"]):
                problems.append(f"{where}/id must be a URL (VC DM 2.0 §4.10)")
    rule("vc.typed-objects", problems)
    return checks
