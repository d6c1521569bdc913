"""The public passport page behind the QR code, and its QR images (the printable label is
in :mod:`gateway.web.label`).

The page is served at the passport URL itself (``GET /passports/{code}``): the API's
handler hands browsers to :func:`passport_page` (wired in by
:func:`gateway.app.create_app`), so both representations come from the same stored
credentials (``services.passport_credentials``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import segno
from flask import Response

from gateway import invisible_chars, services
from gateway.access import disclosure
from gateway.annex_xiii import LEGACY_SECTIONS, PUBLIC_SECTION, is_section, points_of
from gateway.compliance.rules import RULES
from gateway.credentials.claims import credential_claims
from gateway.errors import NotFound
from gateway.vocab.catalog import EN18223_TERMS, Attribute, load_catalog
from gateway.vocab.forms import CODE_TERMS, language_texts, plain_value
from gateway.vocab.units import category_codes
from gateway.web import checks
from gateway.web.common import bp, instance, page, principal
from gateway.web.i18n import attribute_label, language, translate

#: Annex XIII information, clustered as DIN DKE SPEC 99100 chapters 5-6 (and the Battery
#: Pass data model) do: the chapter prefix of each catalog row picks its cluster.
CLUSTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("general", ("6.1",)),
    ("labels", ("6.2",)),
    ("carbon", ("6.3",)),
    ("due_diligence", ("6.4",)),
    ("materials", ("6.5",)),
    ("circularity", ("6.6",)),
    ("performance", ("6.7",)),
    ("passport", ("5.", "-", "")),
)
#: The facts a reader looks for first, by JSON-LD term, shown above the clusters.
KEY_FACTS = (
    "manufacturerName",
    "batteryModelIdentifier",
    "batteryCategory",
    "batteryChemistry",
    "ratedCapacity",
    "nominalVoltage",
    "minimumVoltage",
    "maximumVoltage",
    "carbonFootprintPerFu",
    "cfPerformanceClass",
    "recycledCobaltPreConsumerShare",
    "recycledNickelPreConsumerShare",
    "recycledLithiumPreConsumerShare",
    "recycledLeadPreConsumerShare",
    "hazardousSubstances",
    "batteryStatus",
)
#: Not listed as attributes: the node's own terms, and the EN 18223 metadata as signed at
#: issue (its status may no longer be true; the page states the live one in words).
SKIP_TERMS = frozenset({"id", "type", "@context", "accessGroup", *EN18223_TERMS})
#: The sections that hold point 1: the current one, and the group of passports issued
#: before.
PUBLIC_SECTIONS = (PUBLIC_SECTION, *(n for n, p in LEGACY_SECTIONS.items() if p == {1}))
QR_SCALE = 6
#: Error correction level M (about 15 % of the symbol may be lost): survives a scuffed
#: label and keeps the symbol small enough to print at 28 mm (ISO/IEC 18004).
QR_ERROR = "M"
#: The quiet zone around the symbol, in modules: the 4 that ISO/IEC 18004 asks of QR
#: codes, part of every image served, so a label needs no margin of its own.
QR_BORDER = 4


@dataclass(frozen=True)
class Field:
    """One attribute value ready for a page."""

    term: str
    label: str
    value: Any
    unit: str
    legal_ref: str
    is_link: bool


def cluster_of(attribute: Attribute) -> str:
    chapter = attribute.din_chapter.strip()
    for name, prefixes in CLUSTERS:
        if any(chapter.startswith(p) for p in prefixes if p) or chapter in prefixes:
            return name
    return "passport"


def page_field(term: str, value: Any) -> Field:
    # Context v3 writes quantities as nodes, text as language maps and the category as
    # a code: the page shows the value, and every language of a text (its own first).
    texts = language_texts(value, language())
    value = " / ".join(texts) if texts else plain_value(value, language())
    category = category_codes().get(value) if term in CODE_TERMS else None
    if category is not None:
        value = category.label_zh if language() == "zh" else category.label_en
    # Records are refused with bidirectional or zero-width characters now; a passport
    # stored before shows them as visible code points instead of obeying them.
    value = invisible_chars.neutralise(value)
    attribute = load_catalog().by_term.get(term)
    if attribute is None:
        return Field(term, term, value, "", "", False)
    link = (
        attribute.json_type == "uri"
        and isinstance(value, str)
        and value.startswith(("https://", "http://"))
    )
    label = attribute_label(attribute.key, attribute.label)
    return Field(term, label, value, attribute.unit, attribute.legal_ref, link)


def clustered(subject: Mapping[str, Any]) -> list[tuple[str, list[Field]]]:
    """The attributes of one credential subject by cluster, in catalog order; clusters
    without values are left out."""
    catalog = load_catalog()
    order = {a.term: a.n for a in catalog}
    groups: dict[str, list[Field]] = {name: [] for name, _ in CLUSTERS}
    for term in sorted(
        (t for t in subject if t not in SKIP_TERMS), key=lambda t: order.get(t, 10_000)
    ):
        attribute = catalog.by_term.get(term)
        groups[cluster_of(attribute) if attribute else "passport"].append(
            page_field(term, subject[term])
        )
    return [(name, fields) for name, fields in groups.items() if fields]


def _verification(credential: dict[str, Any] | str, status: str) -> dict[str, Any]:
    """The badge: the public credential verified now, in plain words (revoked or
    suspended said as such, not as a failed status list check).

    :param status: the passport's status: a revocation bit of a superseded passport
        says it was replaced.
    """
    result = services.verify_credential(instance(), credential)
    outcomes = {o.name: o for o in checks.outcomes(result["checks"])}
    verdict = checks.status_verdict(result["checks"])
    if verdict == checks.REVOKED and status == "superseded":
        verdict = checks.SUPERSEDED

    def part(name: str) -> checks.Outcome | None:
        return outcomes.get(f"outcome.{name}")

    return {
        "verified": result["verified"],
        "verdict": verdict,
        "signature": part("signature"),
        "status": part("status"),
        "issuer": part("issuer"),
        "checks": result["checks"],
    }


# -- what the stored gap report tells every reader ------------------------------------


@dataclass(frozen=True)
class Readiness:
    """How complete a passport is, from its stored gap report: counts only, so that the
    public page can show it without telling what points 2 to 4 hold.

    :ivar applicable: mandatory attributes that apply to the battery's category.
    :ivar filled: those the passport fills.
    :ivar missing: those it does not (missing data, partial, unmappable or withheld).
    """

    applicable: int
    filled: int
    missing: int

    @property
    def percent(self) -> int:
        """The share filled, in whole per cent, rounded as the batch page rounds it."""
        return round(100 * self.filled / self.applicable) if self.applicable else 100


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def readiness(gaps: Mapping[str, Any]) -> Readiness | None:
    """The readiness of a stored gap report, or None when the report does not carry the
    counts (or carries counts that do not add up)."""
    summary = gaps.get("summary")
    if not isinstance(summary, Mapping):
        return None
    applicable = _count(summary.get("mandatory_applicable"))
    filled = _count(summary.get("mandatory_filled"))
    if applicable is None or filled is None or filled > applicable:
        return None
    return Readiness(applicable, filled, applicable - filled)


@dataclass(frozen=True)
class NationalErrors:
    """The national compliance findings the page tells of: those of error severity, or,
    when there are none and the verdict is unknown, the uncertain findings of error
    rules that made it so. How many, and the titles of their rules (never a finding's
    message, which may quote withheld data).

    :ivar unknown: the findings leave compliance unknown rather than failed.
    """

    count: int
    rules: tuple[str, ...]
    unknown: bool = False


def national_errors(gaps: Mapping[str, Any]) -> NationalErrors | None:
    """The findings of a stored gap report the page tells of, or None when it has none."""
    national = gaps.get("national")
    findings = national.get("findings") if isinstance(national, Mapping) else None
    if not isinstance(findings, list):
        return None
    shown = [f for f in findings if isinstance(f, Mapping) and f.get("severity") == "error"]
    summary = national.get("summary") if isinstance(national, Mapping) else None
    unknown = not shown and isinstance(summary, Mapping) and summary.get("compliant") == "unknown"
    if unknown:
        shown = [f for f in findings if isinstance(f, Mapping) and f.get("uncertainty")]
    if not shown:
        return None
    titles: dict[str, None] = {}
    for finding in shown:
        rule = finding.get("rule")
        known = RULES.get(rule) if isinstance(rule, str) else None
        titles[rule_title(known.id) if known else translate("rule.unknown")] = None
    return NationalErrors(len(shown), tuple(titles), unknown)


def rule_title(rule_id: str) -> str:
    """A national rule's title in the page's language (its summary if it has none)."""
    return translate(f"rule.{rule_id}", default=RULES[rule_id].summary)


def subjects_by_section(credentials: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The credential subjects by section, in the order of the points they hold (point 1
    first); a name that is not a section is left out."""
    ordered = sorted(
        (name for name in credentials if is_section(name)),
        key=lambda name: (min(points_of(name)), name in LEGACY_SECTIONS),
    )
    return {
        name: credential_claims(credentials[name]).get("credentialSubject", {}) for name in ordered
    }


def public_section_of(credentials: Mapping[str, Any]) -> str | None:
    """The section of ``credentials`` that holds point 1, if any."""
    return next((name for name in PUBLIC_SECTIONS if name in credentials), None)


def passport_page(code: str) -> Response:
    """The passport page: what the caller may read, one section per Annex XIII point
    (headed by who it is for) and by cluster, with a verification badge computed now
    from the stored public credential.
    """
    try:
        passport, credentials = services.passport_credentials(
            instance(), code, principal(), channel=disclosure.PAGE
        )
    except NotFound as exc:
        return page("error.html", 404, title="Not found", detail=str(exc))
    subjects = subjects_by_section(credentials)
    public_section = public_section_of(credentials)
    public = subjects.get(public_section, {}) if public_section else {}
    merged: dict[str, Any] = {}
    for subject in subjects.values():
        merged.update(subject)
    facts = [page_field(term, merged[term]) for term in KEY_FACTS if term in merged]
    sections = [(name, clustered(subject)) for name, subject in subjects.items()]
    badge = _verification(credentials[public_section], passport.status) if public_section else None
    response = page(
        "passport.html",
        passport=passport,
        facts=facts,
        sections=sections,
        badge=badge,
        public=public,
        readiness=readiness(passport.gaps),
        national=national_errors(passport.gaps),
    )
    response.headers["Vary"] = "Accept, Accept-Language, Authorization, Cookie"
    return response


# -- QR code and label -----------------------------------------------------------------


def _qr(code: str) -> segno.QRCode:
    # The battery's unique product identifier: the resolver answers it with the passport.
    passport = services.find_passport(instance(), code)
    target = services.identifier_of(instance().db, passport.battery_code) or passport.id
    return segno.make(target, error=QR_ERROR, micro=False)


@bp.get("/passports/<code>/qr.svg")
def qr_svg(code: str) -> Response:
    out = io.BytesIO()
    _qr(code).save(
        out,
        kind="svg",
        scale=QR_SCALE,
        border=QR_BORDER,
        xmldecl=False,
        title=f"QR code of the battery passport {code}",
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "max-age=86400"
    return response


@bp.get("/passports/<code>/qr.png")
def qr_png(code: str) -> Response:
    out = io.BytesIO()
    _qr(code).save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    response = Response(out.getvalue(), mimetype="image/png")
    response.headers["Cache-Control"] = "max-age=86400"
    return response
