"""Record -> passport documents and gap report -> signed credentials.

The first steps of issuance (policy, map, findings, documents: :func:`draft_passport`)
and the signing step (:func:`sign_credentials`); storing and auditing follow in
:mod:`gateway.services.issuance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from gateway.codes import gbt34014
from gateway.compliance import national_report
from gateway.compliance.whitelist import Whitelist
from gateway.credentials import data_integrity, formats, jose
from gateway.credentials.keys import SigningKey
from gateway.credentials.model import (
    build_credential,
    format_datetime,
)
from gateway.errors import (
    GatewayError,
    InvalidBatteryCode,
)
from gateway.mapping import loader
from gateway.mapping.model import MappingSet
from gateway.policy.approvals import Approval, covered, relied_on, section_references
from gateway.policy.identifiers import IDENTIFYING_PATHS, check_released, identifying_values
from gateway.policy.table import Decision, Policy, apply_policy, load_policy
from gateway.records.lifecycle import recycled_on
from gateway.services.identifiers import mint
from gateway.transform.engine import Conversion, convert
from gateway.transform.gaps import gap_report
from gateway.transform.jsonld import passport_documents
from gateway.vocab.catalog import load_catalog

#: The record's top-level fields below which identifying values may stand.
_IDENTIFYING_TOPS = frozenset(path.partition(".")[0] for path in IDENTIFYING_PATHS)


class BatteryRecycled(GatewayError):
    """A record whose battery has been recycled: its passport has ceased to exist (Art.
    77(8) of Regulation (EU) 2023/1542), so no credential is signed for it."""

    status, slug, title = 422, "battery-recycled", "Battery recycled: no passport (Art. 77(8))"


@dataclass(frozen=True)
class Recycling:
    """The completed recycling that ended a battery's life, as its record tells it.

    :ivar index: the event's position in the record's ``events``.
    :ivar date: the day it was recycled (``YYYY-MM-DD``).
    """

    index: int
    date: str

    @property
    def pointer(self) -> str:
        return f"/events/{self.index}"

    def refusal(self, detail: str = "") -> BatteryRecycled:
        """The error that refuses a passport for this battery."""
        return BatteryRecycled(
            f"the battery was recycled on {self.date} ({self.pointer}); under Art. 77(8) "
            f"of Regulation (EU) 2023/1542 its passport ceases to exist, so none is "
            f"issued{detail}",
            pointer=self.pointer,
            recycledOn=self.date,
        )


def recycling(record: Mapping[str, Any]) -> Recycling | None:
    """The recycling that is the record's last event (see
    :func:`gateway.records.lifecycle.recycled_on`), with its place in the record."""
    date = recycled_on(record)
    if date is None:
        return None
    events = record.get("events") or ()
    # recycled_on orders events by date, then by position; the last of that order is
    # the recycling it found.
    order = sorted(
        (i for i, e in enumerate(events) if isinstance(e, Mapping)),
        key=lambda i: (str(events[i].get("date", "")), i),
    )
    return Recycling(order[-1], date)


@dataclass(frozen=True)
class PassportDraft:
    """An unsigned passport: one JSON-LD document per section (non-empty Annex XIII
    point) and the gap report."""

    conversion: Conversion
    documents: dict[str, dict[str, Any]]
    gaps: dict[str, Any]
    policy: Decision
    #: By section (``gateway.annex_xiii``), the references of the export approvals its
    #: credential relies on: it carries BMS health data an approval released.
    approvals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The recycling that ended the battery's life: the draft shows the gap report,
    #: but no credential is signed from it (Art. 77(8)).
    recycled: Recycling | None = None

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
    approvals: Sequence[Approval] = (),
    at: datetime | None = None,
    identifier: str | None = None,
    known_passports: Mapping[str, str] | None = None,
) -> PassportDraft:
    """Turn a validated national record into passport documents and a gap report.

    The cross-border policy runs first: what it withholds never reaches the mapping.
    BMS health data leaves only under the export approvals in force at ``at``; the gap
    report's ``policy`` block names those relied on (``approvals``) and the draft maps
    each section whose credential carries such data to their references.

    :param mapping: a ``SET@VERSION`` reference to a published table, or a table.
    :param policy: the data policy (default: the shipped ``cn-export`` policy; a tenant's
        is :meth:`~gateway.policy.table.Policy.stricter`).
    :param whitelist: the white-list for the national compliance findings (default:
        the shipped one).
    :param approvals: the issuing tenant's export approvals (those not in force at
        ``at`` are ignored).
    :param at: the moment of issuance (default: now).
    :param identifier: the battery's unique product identifier (default: the
        identification link under ``base_url``, :func:`gateway.services.identifiers.mint`).
    :param known_passports: passport ids this gateway holds, by battery code: the only
        ones a predecessor link may point to (Art. 77(7)).
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
    moment = at or datetime.now(UTC)
    exportable, decision = apply_policy(record, policy or load_policy(), covered(approvals, moment))
    conversion = convert(
        exportable,
        mapping_set,
        load_catalog(),
        base_url=base_url,
        decode_code=decode_code,
        withheld=decision.withheld_paths,
        passport_of=(known_passports or {}).get,
    )
    # Only the top-level objects that hold identifying fields are searched, not the
    # cells of the whole pack; a record without them (a pack not yet in a vehicle) has
    # nothing to look for in the passport's values.
    identifying = identifying_values({k: v for k, v in record.items() if k in _IDENTIFYING_TOPS})
    if identifying:
        values = [r for r in conversion.results if r.value is not None]
        check_released(
            {r.attribute.term: r.value for r in values},
            identifying,
            {r.attribute.term: "/" + r.source.replace(".", "/") for r in values if r.source},
            exportable,
        )
    # Which sections carry data an approval released, and of which categories.
    released: dict[str, set[str]] = {}
    for result in conversion.results if decision.released else ():
        if result.value is None or result.source is None:
            continue
        category = decision.category_of(result.source)
        if category is not None:
            released.setdefault(result.attribute.access_group, set()).add(category)
    relied = relied_on(approvals, released, moment)
    gaps = gap_report(
        conversion, {**decision.as_dict(), "approvals": [r.as_dict() for r in relied]}
    )
    # The national findings read the whole record (hierarchy, events, hand-overs), but
    # name fields by pointer and never quote withheld values.
    gaps["national"] = national_report(record, whitelist=whitelist)
    return PassportDraft(
        conversion,
        passport_documents(
            conversion,
            issued_at=moment,
            record=exportable,
            unique_product_identifier=identifier or mint(None, base_url, 0, record).uri,
        ),
        gaps,
        decision,
        section_references(relied),
        recycling(record),
    )


class StatusAllocator(Protocol):
    """Where status entries come from: a :class:`~gateway.credentials.status_list.
    StatusRegistry`, or the instance's :class:`~gateway.services.instance.StatusPool`."""

    def allocate(
        self, purposes: Sequence[str] = ..., count: int = 1
    ) -> list[list[dict[str, str]]]: ...


@dataclass(frozen=True)
class SignedCredential:
    """One signed credential of a passport, with the status entries it was given.

    :ivar id: the credential's ``id``.
    :ivar access_group: the section it discloses (``annex-xiii-N``: one Annex XIII point).
    :ivar credential: a dict for Data Integrity, the compact JWS text for ``vc+jwt``.
    :ivar status: its ``BitstringStatusListEntry`` objects (none when issued without
        status lists).
    """

    id: str
    access_group: str
    credential: dict[str, Any] | str
    status: tuple[Mapping[str, str], ...]

    def entry(self, purpose: str) -> Mapping[str, str] | None:
        """The status entry of one purpose (``revocation``, ``suspension``), if any."""
        return next((e for e in self.status if e.get("statusPurpose") == purpose), None)


def sign_credentials(
    draft: PassportDraft,
    *,
    key: SigningKey,
    registry: StatusAllocator | None,
    proof_format: str = "di",
    valid_from: datetime | None = None,
) -> dict[str, SignedCredential]:
    """Issue one credential per section (non-empty Annex XIII point) of a drafted passport.

    Each is signed on its own, so that a reader is handed only the points it may read.
    Each names the mapping set, version and hash it was made with, and the export
    approvals its BMS health data left China under (``draft.approvals``); given a
    ``registry``, gets a revocation and a suspension entry in the issuer's status lists;
    what was allocated is returned beside the credential, never read back from it.

    :param registry: where status entries come from; ``None`` issues credentials with no
        ``credentialStatus`` (nothing could ever revoke them, so none is promised).
    :param proof_format: ``di`` (Data Integrity ``eddsa-rdfc-2022``) or ``jwt``
        (compact ``vc+jwt``).
    :returns: by section, the signed credential and its status entries.
    :raises InvalidInput: an unknown proof format.
    :raises BatteryRecycled: the record says the battery was recycled (Art. 77(8)).
    :raises CredentialError: a credential that breaks VC 2.0.
    """
    if draft.recycled is not None:
        raise draft.recycled.refusal()
    proof_format = formats.proof_format(proof_format)
    mapping = draft.gaps["mapping"]
    moment = format_datetime(valid_from or datetime.now(UTC))
    count = len(draft.documents)
    entries: list[list[dict[str, str]]] = (
        registry.allocate(count=count) if registry is not None else [[] for _ in range(count)]
    )
    signed: dict[str, SignedCredential] = {}
    for (name, document), status in zip(draft.documents.items(), entries, strict=True):
        credential = build_credential(
            document,
            issuer=key.issuer,
            passport_id=draft.conversion.passport_id,
            access_group=name,
            mapping=mapping,
            status=list(status) or None,
            valid_from=moment,
            export_approvals=draft.approvals.get(name, ()),
            subject_built=True,
        )
        secured: dict[str, Any] | str
        if proof_format == "di":
            secured = data_integrity.add_proof(credential, key.private_key, key.kid, created=moment)
        else:
            secured = jose.sign_jwt(credential, key.private_key, key.kid)
        signed[name] = SignedCredential(str(credential["id"]), name, secured, tuple(status))
    return signed


def sign_passport(
    draft: PassportDraft,
    *,
    key: SigningKey,
    registry: StatusAllocator | None,
    proof_format: str = "di",
    valid_from: datetime | None = None,
) -> dict[str, dict[str, Any] | str]:
    """The credentials of :func:`sign_credentials` alone, by section (a dict for ``di``,
    the compact JWS text for ``jwt``)."""
    signed = sign_credentials(
        draft, key=key, registry=registry, proof_format=proof_format, valid_from=valid_from
    )
    return {name: s.credential for name, s in signed.items()}
