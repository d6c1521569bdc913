"""Export approvals for BMS health data: what one says, when it is in force, and which
approvals a passport relies on.

China's automotive data export guidelines (2026 edition) let data out under a security
assessment by the Cyberspace Administration, a filed standard contract, a personal
information protection certification, or one of their exemption scenarios. A tenant
records each approval it holds with its reference number, the authority, the data
categories (:mod:`gateway.policy.categories`) it covers, its validity and the SHA-256 of
the approval document; only while one is in force do the ``approval_required`` paths of
its categories leave (:func:`gateway.policy.table.apply_policy`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from gateway import invisible_chars
from gateway.errors import InvalidInput
from gateway.policy.categories import CATEGORIES, is_category
from gateway.validity import parse_bound

Kind = Literal["security_assessment", "standard_contract_filing", "certification", "exemption"]
#: The legal routes out of China an approval can stand for.
KINDS: tuple[Kind, ...] = get_args(Kind)
MAX_REFERENCE = 100
MAX_AUTHORITY = 200
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIMESTAMP)


@dataclass(frozen=True)
class NewApproval:
    """An approval as recorded, checked (:func:`check_approval`).

    :ivar valid_from: the first moment it is in force (UTC).
    :ivar valid_until: the first moment it is no longer in force (UTC).
    """

    kind: Kind
    reference: str
    authority: str
    categories: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    document_sha256: str


@dataclass(frozen=True)
class Approval:
    """A recorded approval of one tenant.

    :ivar id: its number in the store.
    :ivar tenant: the tenant's name.
    """

    id: int
    tenant_id: int
    tenant: str
    kind: str
    reference: str
    authority: str
    categories: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    document_sha256: str
    added_by: str
    added_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def in_force(self, at: datetime) -> bool:
        """Whether the approval may be relied on at ``at``: within its validity
        (``valid_until`` excluded) and not revoked by then."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        return self.valid_from <= at < self.valid_until

    def as_json(self, at: datetime | None = None) -> dict[str, Any]:
        """The approval as the API and ``--json`` show it; ``inForce`` as of ``at``
        (default: now)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "kind": self.kind,
            "reference": self.reference,
            "authority": self.authority,
            "categories": list(self.categories),
            "validFrom": _stamp(self.valid_from),
            "validUntil": _stamp(self.valid_until),
            "documentSha256": self.document_sha256,
            "addedBy": self.added_by,
            "addedAt": _stamp(self.added_at),
            "revokedAt": _stamp(self.revoked_at) if self.revoked_at else None,
            "revokedBy": self.revoked_by,
            "inForce": self.in_force(at or datetime.now(UTC)),
        }


def _text(value: object, pointer: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{pointer}: must be a non-empty text", pointer=pointer)
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(f"{pointer}: at most {limit} characters", pointer=pointer)
    if not text.isprintable() or invisible_chars.find(text) is not None:
        raise InvalidInput(
            f"{pointer}: control or invisible formatting characters are not allowed",
            pointer=pointer,
        )
    return text


def check_approval(data: Mapping[str, Any]) -> NewApproval:
    """Check an approval as the API body and the CLI give it: ``kind``, ``reference``,
    ``authority``, ``categories``, ``validFrom``, ``validUntil``, ``documentSha256``.

    :raises InvalidInput: a field breaks its rule (the pointer names it): an unknown
        kind or category, no category, an empty or over-long text, a bound that is not a
        date, an end not after the start, a SHA-256 that is not 64 lowercase hex digits.
    """
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"/kind: must be one of {', '.join(KINDS)}", pointer="/kind")
    categories = data.get("categories")
    if not isinstance(categories, list | tuple) or not categories:
        raise InvalidInput("/categories: name at least one data category", pointer="/categories")
    for i, category in enumerate(categories):
        if not is_category(category):
            raise InvalidInput(
                f"/categories/{i}: not a data category (one of {', '.join(CATEGORIES)})",
                pointer=f"/categories/{i}",
            )
    start = parse_bound(data.get("validFrom"), "/validFrom")
    until = parse_bound(data.get("validUntil"), "/validUntil", end=True)
    if until <= start:
        raise InvalidInput("/validUntil: must be after validFrom", pointer="/validUntil")
    digest = data.get("documentSha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise InvalidInput(
            "/documentSha256: must be the SHA-256 of the approval document, 64 lowercase "
            "hexadecimal digits",
            pointer="/documentSha256",
        )
    return NewApproval(
        kind=kind,
        reference=_text(data.get("reference"), "/reference", MAX_REFERENCE),
        authority=_text(data.get("authority"), "/authority", MAX_AUTHORITY),
        categories=tuple(c for c in CATEGORIES if c in categories),
        valid_from=start,
        valid_until=until,
        document_sha256=digest,
    )


def covered(approvals: Iterable[Approval], at: datetime) -> frozenset[str]:
    """The data categories the approvals in force at ``at`` cover."""
    return frozenset(c for a in approvals if a.in_force(at) for c in a.categories)


@dataclass(frozen=True)
class Reliance:
    """An approval a passport relies on: the categories of its data that leave under
    it, and the sections (credentials) that carry them."""

    approval: Approval
    categories: tuple[str, ...]
    sections: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.approval.id,
            "reference": self.approval.reference,
            "kind": self.approval.kind,
            "authority": self.approval.authority,
            "categories": list(self.categories),
            "sections": list(self.sections),
        }


def relied_on(
    approvals: Sequence[Approval], released: Mapping[str, Iterable[str]], at: datetime
) -> list[Reliance]:
    """The approvals in force at ``at`` that released data a passport carries.

    :param released: by section, the categories of the approval-released data in it.
    :returns: one entry per approval relied on, by id; every approval in force covering
        a released category is named.
    """
    out = []
    by_section = {section: frozenset(c) for section, c in released.items()}
    for approval in sorted(approvals, key=lambda a: a.id):
        if not approval.in_force(at):
            continue
        mine = frozenset(approval.categories)
        sections = tuple(s for s, cats in by_section.items() if cats & mine)
        used = frozenset().union(*(by_section[s] & mine for s in sections))
        if sections:
            out.append(
                Reliance(approval, tuple(c for c in CATEGORIES if c in used), tuple(sections))
            )
    return out


def section_references(relied: Sequence[Reliance]) -> dict[str, tuple[str, ...]]:
    """By section, the references of the approvals its credential relies on."""
    refs: dict[str, list[str]] = {}
    for reliance in relied:
        for section in reliance.sections:
            refs.setdefault(section, [])
            if reliance.approval.reference not in refs[section]:
                refs[section].append(reliance.approval.reference)
    return {section: tuple(r) for section, r in refs.items()}
