"""The public passport page behind the QR code, its QR images and its printable label.

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
from gateway.credentials.claims import credential_claims
from gateway.errors import NotFound
from gateway.vocab.catalog import ACCESS_GROUPS, Attribute, load_catalog
from gateway.web.common import bp, instance, page, principal

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
#: Annex VI Part A: what the label of a battery shows (Art. 13(1)).
LABEL_MARK = "Annex VI Part A"
SKIP_TERMS = frozenset({"id", "type", "@context", "accessGroup"})
QR_SCALE = 6


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


def _field(term: str, value: Any) -> Field:
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
    return Field(term, attribute.label, value, attribute.unit, attribute.legal_ref, link)


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
            _field(term, subject[term])
        )
    return [(name, fields) for name, fields in groups.items() if fields]


def _verification(credential: dict[str, Any] | str) -> dict[str, Any]:
    result = services.verify_credential(instance(), credential)
    checks = result["checks"]

    def part(*prefixes: str) -> bool | None:
        found = [c["ok"] for c in checks if c["id"].startswith(prefixes)]
        return all(found) if found else None

    return {
        "verified": result["verified"],
        "signature": part("proof", "jose"),
        "status": part("status"),
        "issuer": part("issuer"),
        "checks": checks,
    }


def _subjects(credentials: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        group: credential_claims(c).get("credentialSubject", {}) for group, c in credentials.items()
    }


def passport_page(code: str) -> Response:
    """The passport page: what the caller may read, by Annex XIII access group and
    cluster, with a verification badge computed now from the stored public credential.
    """
    try:
        passport, credentials = services.passport_credentials(instance(), code, principal())
    except NotFound as exc:
        return page("error.html", 404, title="Not found", detail=str(exc))
    subjects = _subjects(credentials)
    public = subjects.get("public", {})
    merged: dict[str, Any] = {}
    for group in ACCESS_GROUPS:
        merged.update(subjects.get(group, {}))
    facts = [_field(term, merged[term]) for term in KEY_FACTS if term in merged]
    sections = [(group, clustered(subjects[group])) for group in ACCESS_GROUPS if group in subjects]
    badge = _verification(credentials["public"]) if "public" in credentials else None
    response = page(
        "passport.html",
        passport=passport,
        facts=facts,
        sections=sections,
        badge=badge,
        public=public,
    )
    response.headers["Vary"] = "Accept, Accept-Language, Authorization, Cookie"
    return response


# -- QR code and label -----------------------------------------------------------------


def _qr(code: str) -> segno.QRCode:
    passport = services.find_passport(instance(), code)
    # Error correction M (15 %) survives a scuffed label and keeps the symbol small.
    return segno.make(passport.id, error="m", micro=False)


@bp.get("/passports/<code>/qr.svg")
def qr_svg(code: str) -> Response:
    out = io.BytesIO()
    _qr(code).save(
        out,
        kind="svg",
        scale=QR_SCALE,
        border=4,
        xmldecl=False,
        title=f"QR code of the battery passport {code}",
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "max-age=86400"
    return response


@bp.get("/passports/<code>/qr.png")
def qr_png(code: str) -> Response:
    out = io.BytesIO()
    _qr(code).save(out, kind="png", scale=QR_SCALE, border=4)
    response = Response(out.getvalue(), mimetype="image/png")
    response.headers["Cache-Control"] = "max-age=86400"
    return response


@bp.get("/passports/<code>/label")
def label(code: str) -> Response:
    """A printable label: the QR code, the code in text and the Annex VI Part A fields
    the public passport holds."""
    passport, credentials = services.passport_credentials(instance(), code, None)
    public = _subjects(credentials).get("public", {})
    fields = [
        _field(a.term, public[a.term])
        for a in load_catalog()
        if LABEL_MARK in a.legal_ref and a.term in public
    ]
    return page("label.html", passport=passport, fields=fields)
