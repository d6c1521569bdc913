"""Record -> passport documents and gap report -> signed credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.codes import gbt34014
from gateway.compliance import national_report
from gateway.compliance.whitelist import Whitelist
from gateway.credentials import data_integrity, jose
from gateway.credentials.keys import SigningKey
from gateway.credentials.model import (
    build_credential,
    format_datetime,
)
from gateway.credentials.status_list import (
    StatusRegistry,
)
from gateway.errors import (
    CredentialError,
    InvalidBatteryCode,
)
from gateway.mapping import loader
from gateway.mapping.model import MappingSet
from gateway.policy.table import Decision, Policy, apply_policy, load_policy
from gateway.transform.engine import Conversion, convert
from gateway.transform.gaps import gap_report
from gateway.transform.jsonld import passport_documents
from gateway.vocab.catalog import load_catalog


@dataclass(frozen=True)
class PassportDraft:
    """An unsigned passport: one JSON-LD document per access group and the gap report."""

    conversion: Conversion
    documents: dict[str, dict[str, Any]]
    gaps: dict[str, Any]
    policy: Decision

    @property
    def battery_code(self) -> str:
        return self.conversion.battery_code


def decode_code(code: str) -> dict[str, Any]:
    return gbt34014.decode(code).as_dict()


def draft_passport(
    record: Mapping[str, Any],
    *,
    mapping: str | MappingSet,
    base_url: str,
    policy: Policy | None = None,
    whitelist: Whitelist | None = None,
) -> PassportDraft:
    """Turn a validated national record into passport documents and a gap report.

    The cross-border policy runs first: what it withholds never reaches the mapping.

    :param mapping: a ``SET@VERSION`` reference to a published table, or a table.
    :param policy: the data policy (default: the shipped ``cn-export`` policy).
    :param whitelist: the white-list for the national compliance findings (default:
        the shipped one).
    :raises InvalidBatteryCode: the record's battery code does not decode.
    :raises MappingNotFound: no such mapping version.
    :raises TransformError: a value cannot be transformed.
    """
    mapping_set = loader.load(mapping) if isinstance(mapping, str) else mapping
    code = record["battery"]["code"]
    try:
        gbt34014.decode(code, strict=True)
    except InvalidBatteryCode as exc:
        exc.pointer = "/battery/code"
        raise
    exportable, decision = apply_policy(record, policy or load_policy())
    conversion = convert(
        exportable,
        mapping_set,
        load_catalog(),
        base_url=base_url,
        decode_code=decode_code,
        withheld=decision.withheld_paths,
    )
    gaps = gap_report(conversion, decision.as_dict())
    # The national findings read the whole record (hierarchy, events, hand-overs), but
    # name fields by pointer and never quote withheld values.
    gaps["national"] = national_report(record, whitelist=whitelist)
    return PassportDraft(conversion, passport_documents(conversion), gaps, decision)


PROOF_FORMATS = ("di", "jwt")


def sign_passport(
    draft: PassportDraft,
    *,
    key: SigningKey,
    registry: StatusRegistry,
    proof_format: str = "di",
    valid_from: datetime | None = None,
) -> dict[str, dict[str, Any] | str]:
    """Issue one credential per access group of a drafted passport.

    Each gets a revocation and a suspension entry in the issuer's status lists, and
    names the mapping set, version and hash it was made with.

    :param proof_format: ``di`` (Data Integrity ``eddsa-rdfc-2022``) or ``jwt``
        (compact ``vc+jwt``).
    :returns: by access group, the signed credential (a dict for ``di``, the compact
        JWS text for ``jwt``).
    :raises CredentialError: an unknown proof format, or a credential that breaks VC 2.0.
    """
    if proof_format not in PROOF_FORMATS:
        raise CredentialError(
            f"proof format {proof_format!r} is not one of {', '.join(PROOF_FORMATS)}",
            pointer="format",
        )
    mapping = draft.gaps["mapping"]
    moment = format_datetime(valid_from or datetime.now(UTC))
    entries = registry.allocate(count=len(draft.documents))
    signed: dict[str, dict[str, Any] | str] = {}
    for (group, document), status in zip(draft.documents.items(), entries, strict=True):
        credential = build_credential(
            document,
            issuer=key.issuer,
            passport_id=draft.conversion.passport_id,
            access_group=group,
            mapping=mapping,
            status=status,
            valid_from=moment,
        )
        if proof_format == "di":
            signed[group] = data_integrity.add_proof(credential, key.private_key, key.kid,
                                                     created=moment)
        else:
            signed[group] = jose.sign_jwt(credential, key.private_key, key.kid)
    return signed


# The gateway as a service: what the HTTP API does, over the store. ----------------------
