"""The resolver behind a battery's unique product identifier: what its QR code leads to.

- ``GET /01/{gtin}/21/{serial}`` (GS1 Digital Link) and ``GET /id/{code}`` (IEC 61406
  identification link) answer for the battery's passport by content negotiation: a page
  for browsers, the JSON-LD presentation, the Asset Administration Shell
  (``application/aas+json``), or the link set (``application/linkset+json``, RFC 9264).
  ``?linkType=`` picks one link as a GS1 resolver does: ``linkset`` (or ``all``) the link
  set, another known type a redirect to its target, an unknown one the default answer.
- ``GET /passports/{code}/linkset``: the link set at the passport's own URL space.
- ``GET /passports/{code}/credentials/{section}``: one credential of the passport.

The link set carries the IANA-registered ``dpp`` relation (the passport in each of its
representations), ``describedby`` (the EN 18223 metadata), GS1's ``defaultLink`` and
``pip``, and one link per credential the caller may read: the same access rules as the
passport itself, so an anonymous caller is shown the public credential only. Every
answer carries these links in a ``Link`` header too (RFC 8288).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for

from gateway import services
from gateway.annex_xiii import is_section
from gateway.api.http import LD_JSON, instance, principal
from gateway.api.passports import get_passport
from gateway.codes import gs1, iec61406
from gateway.errors import InvalidInput, NotFound
from gateway.transform.aas_media_types import AAS_JSON, AASX

bp = Blueprint("resolver", __name__)

LINKSET = "application/linkset+json"
HTML = "text/html"
#: The IANA link relation for a digital product passport.
DPP = "dpp"
#: The VC data model's term for a credential, as an extension relation type (RFC 8288 §2.1.2).
CREDENTIAL_RELATION = "https://www.w3.org/2018/credentials#verifiableCredential"
GS1_DEFAULT = "https://gs1.org/voc/defaultLink"
GS1_PIP = "https://gs1.org/voc/pip"
#: ``linkType`` values that ask for the whole link set.
LINKSET_TYPES = ("linkset", "all", "gs1:linkset")
#: Longest ``linkType`` read.
MAX_LINK_TYPE = 100
_MEDIA_TYPES = {"di": "application/vc", "jwt": "application/vc+jwt"}


def _absolute(path: str) -> str:
    return f"{instance().base_url}{path}"


def _link_type() -> str | None:
    """``?linkType=``, with GS1's ``gs1:`` prefix written out.

    :raises InvalidInput: too long or not printable.
    """
    value = request.args.get("linkType")
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_LINK_TYPE or not value.isprintable():
        raise InvalidInput(
            f"linkType must be 1-{MAX_LINK_TYPE} printable characters", pointer="linkType"
        )
    if value.startswith("gs1:") and value not in LINKSET_TYPES:
        return f"https://gs1.org/voc/{value.removeprefix('gs1:')}"
    return value


def _wants_linkset() -> bool:
    offered = [LD_JSON, "application/json", AAS_JSON, HTML, LINKSET]
    return request.accept_mimetypes.best_match(offered) == LINKSET


def links(code: str) -> dict[str, Any]:
    """The link set of a battery's passport for the caller (RFC 9264 §4.2)."""
    found = services.resolution(instance(), code, principal())
    passport = found.passport
    page = {"href": passport.id, "type": HTML, "title": "Battery passport"}
    context: dict[str, Any] = {
        "anchor": found.identifier,
        DPP: [
            page,
            {"href": passport.id, "type": LD_JSON},
            {"href": passport.id, "type": AAS_JSON},
            {"href": _absolute(url_for("passports.get_aasx", code=code)), "type": AASX},
        ],
        "describedby": [
            {
                "href": _absolute(url_for("registry.metadata", code=code)),
                "type": "application/json",
                "title": "EN 18223 passport metadata",
            }
        ],
        GS1_DEFAULT: [page],
        GS1_PIP: [page],
    }
    credentials = [
        {
            "href": _absolute(url_for("resolver.credential", code=code, section=section)),
            "type": _MEDIA_TYPES.get(fmt, "application/vc"),
            "title": f"Annex XIII {section.replace('annex-xiii-', 'point ')}",
        }
        for section, fmt in found.credentials
    ]
    if credentials:
        context[CREDENTIAL_RELATION] = credentials
    return {"linkset": [context]}


def link_header(linkset: dict[str, Any], code: str) -> str:
    """The links of a link set as a ``Link`` header (RFC 8288), with the link set itself
    and the identifier (``cite-as``, RFC 8574)."""
    context = linkset["linkset"][0]
    parts = [
        f'<{_absolute(url_for("resolver.linkset", code=code))}>; rel="linkset"; type="{LINKSET}"',
        f'<{context["anchor"]}>; rel="cite-as"',
    ]
    for relation, targets in context.items():
        if relation == "anchor" or relation in (GS1_DEFAULT, GS1_PIP):
            continue
        for target in targets:
            parts.append(f'<{target["href"]}>; rel="{relation}"; type="{target["type"]}"')
    return ", ".join(parts)


def _linkset_response(code: str) -> Response:
    body = links(code)
    response = Response(json.dumps(body, ensure_ascii=False), mimetype=LINKSET)
    response.headers["Link"] = link_header(body, code)
    response.headers["Vary"] = "Accept, Authorization"
    return response


def _answer(code: str) -> Response:
    """What the identifier of battery ``code`` answers, by ``linkType`` and ``Accept``."""
    link_type = _link_type()
    if link_type in LINKSET_TYPES or (link_type is None and _wants_linkset()):
        return _linkset_response(code)
    body = links(code)
    context = body["linkset"][0]
    targets = context.get(link_type) if link_type not in (None, DPP) else None
    if targets:
        response = Response(status=307, headers={"Location": targets[0]["href"]})
    else:
        # No link type, dpp, or one this passport has no link of: the default answer,
        # the passport itself by content negotiation.
        response = get_passport(code)
    response.headers["Link"] = link_header(body, code)
    # Kept beside what the answer varies on already (a page: language and cookie too).
    response.vary.update(("Accept", "Authorization"))
    return response


@bp.get("/01/<gtin>/21/<path:serial>")
def gs1_digital_link(gtin: str, serial: str) -> Response:
    """A GS1 Digital Link: ``/01/{GTIN}/21/{serial}`` (a GTIN of 8-14 digits)."""
    if len(gtin) > 14:
        raise InvalidInput("a GTIN has at most 14 digits", pointer="gtin")
    if len(serial) > gs1.SERIAL_MAX:
        raise InvalidInput(
            f"a GS1 serial has at most {gs1.SERIAL_MAX} characters", pointer="serial"
        )
    try:
        gs1.gtin14(gtin)
    except ValueError as exc:
        raise InvalidInput(str(exc), pointer="gtin") from None
    try:
        link = gs1.digital_link(gtin, serial)
    except ValueError as exc:
        raise InvalidInput(str(exc), pointer="serial") from None
    return _answer(services.resolve(instance().db, link.path))


@bp.get(f"{iec61406.PREFIX}<code>")
def identification_link(code: str) -> Response:
    """An IEC 61406 identification link: ``/id/{GB/T 34014 code}``. The code it embeds
    names the passport, whatever scheme gave the battery its identifier."""
    try:
        found = iec61406.code_of(iec61406.path(code[:25]))  # one past the longest code
    except ValueError as exc:
        raise InvalidInput(str(exc), pointer="code") from None
    return _answer(found)


@bp.get("/passports/<code>/linkset")
def linkset(code: str) -> Response:
    """The link set of a passport for the caller."""
    return _linkset_response(code)


@bp.get("/passports/<code>/credentials/<section>")
def credential(code: str, section: str) -> Response:
    """One credential of a passport, if the caller may read its section."""
    if not is_section(section):
        raise NotFound("no such section", pointer="section")
    found = services.passport_credential(instance(), code, section, principal())
    if isinstance(found, str):
        response = Response(found, mimetype=_MEDIA_TYPES["jwt"])
    else:
        response = Response(json.dumps(found, ensure_ascii=False), mimetype=_MEDIA_TYPES["di"])
    response.headers["Vary"] = "Authorization"
    response.headers["Link"] = (
        f'<{_absolute(url_for("resolver.linkset", code=code))}>; rel="linkset"; type="{LINKSET}"'
    )
    return response
