"""The printable label: one page of 100 mm x 70 mm with the QR code (or, with
``?symbol=datamatrix``, a DataMatrix) carrying the battery's unique product identifier,
the GB/T 34014 code, the identifier in text and as many Annex VI Part A fields of the
public passport as fit.

What fits is decided here, not left to the printer: the fields are taken in the order
of :data:`FIRST`, then the catalog's, while their estimated lines fit the space beside
the QR code, and the label says how many more the passport holds. The print stylesheet
(``static/print.css``) sets the page size and keeps codes, e-mail addresses and URLs
whole (a URL breaks only after a ``/``).

QR codes are segno's; DataMatrix symbols (ECC 200, ISO/IEC 16022) are encoded by
``ppf-datamatrix``, a pure-Python port of a known encoder. Its own SVG has a fixed pixel
size and no ``viewBox``, so the symbol is drawn here from the module matrix it returns,
with a quiet zone of :data:`DATAMATRIX_BORDER` modules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from ppf.datamatrix import DataMatrix

from gateway import services
from gateway.errors import InvalidInput
from gateway.vocab.catalog import load_catalog
from gateway.web.common import bp, instance, page
from gateway.web.passport import (
    QR_BORDER,
    QR_ERROR,
    page_field,
    public_section_of,
    subjects_by_section,
)

#: Annex VI Part A: what the label of a battery shows (Art. 13(1)).
LABEL_MARK = "Annex VI Part A"
#: What a reader of a label looks for first (what the battery is, who made it, how to
#: put out a fire); the other Annex VI Part A fields follow in catalog order.
FIRST = (
    "batteryModelIdentifier",
    "batteryCategory",
    "batteryChemistry",
    "ratedCapacity",
    "batteryMass",
    "manufacturerName",
    "manufacturingDate",
    "extinguishingAgent",
    "hazardousSubstances",
    "criticalRawMaterials",
)
#: The space beside the QR code on paper, in lines of 6 pt text of about
#: :data:`LINE_WIDTH` Latin characters (a CJK character counts twice).
LINES = 19
LINE_WIDTH = 52
#: The symbols a label can carry (``?symbol=``), the first the default.
SYMBOLS = ("qr", "datamatrix")
#: The quiet zone around a DataMatrix, in modules: ISO/IEC 16022 asks for one; two keep a
#: label's border line clear of it.
DATAMATRIX_BORDER = 2
DATAMATRIX_SCALE = 6
#: A trailing parenthesis of a catalog label ("(if available)", "('weight')") is left
#: off the label, in either script's parentheses.
_TRAILING_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


@dataclass(frozen=True)
class LabelField:
    """One field of the label.

    :ivar kind: ``url`` (breaks only after a ``/``: its parts are in ``parts``),
        ``token`` (one word, such as a code or an e-mail address: never broken) or
        ``text``.
    """

    label: str
    text: str
    unit: str
    kind: str
    parts: tuple[str, ...] = ()


def url_parts(url: str) -> tuple[str, ...]:
    """A URL cut after each ``/``: the only places a label may break it."""
    return tuple(part for part in re.split(r"(?<=/)", url) if part)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def label_field(term: str, value: Any) -> LabelField:
    """A passport attribute as the label prints it."""
    field = page_field(term, value)
    text = _text(field.value)
    label = _TRAILING_NOTE.sub("", field.label) or field.label
    if text.startswith(("https://", "http://")) and " " not in text:
        return LabelField(label, text, field.unit, "url", url_parts(text))
    kind = "token" if text and not any(c.isspace() for c in text) else "text"
    return LabelField(label, text, field.unit, kind)


def width(text: str) -> int:
    """The width of a text in Latin characters: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def lines(field: LabelField) -> int:
    """The lines a field takes: its label and value run on, wrapped at
    :data:`LINE_WIDTH`."""
    length = width(field.label) + 2 + width(field.text) + (width(field.unit) + 1)
    return -(-length // LINE_WIDTH)


def fitting(fields: list[LabelField], budget: int = LINES) -> tuple[list[LabelField], int]:
    """The fields that fit the label, in order, and how many are left out.

    A field that does not fit ends the label (a later, shorter one is not squeezed in:
    the label keeps its order of importance)."""
    used = 0
    for n, field in enumerate(fields):
        used += lines(field)
        if used > budget:
            return fields[:n], len(fields) - n
    return fields, 0


def datamatrix_svg(data: str, scale: int = DATAMATRIX_SCALE) -> str:
    """A DataMatrix (ECC 200) of ``data`` as SVG, with its quiet zone: one path of
    unit squares in a ``viewBox`` of modules."""
    matrix = DataMatrix(data).matrix
    side = len(matrix[0]) + 2 * DATAMATRIX_BORDER
    height = len(matrix) + 2 * DATAMATRIX_BORDER
    squares = "".join(
        f"M{x + DATAMATRIX_BORDER},{y + DATAMATRIX_BORDER}h1v1h-1z"
        for y, row in enumerate(matrix)
        for x, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {height}" '
        f'width="{side * scale}" height="{height * scale}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{height}" fill="#fff"/>'
        f'<path d="{squares}" fill="#000"/></svg>'
    )


@bp.get("/passports/<code>/datamatrix.svg")
def datamatrix(code: str) -> Response:
    """A DataMatrix carrying the battery's unique product identifier."""
    passport = services.find_passport(instance(), code)
    identifier = services.identifier_of(instance().db, passport.battery_code) or passport.id
    response = Response(datamatrix_svg(identifier), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "max-age=86400"
    return response


def _symbol() -> str:
    value = request.args.get("symbol", SYMBOLS[0])
    if value not in SYMBOLS:
        raise InvalidInput(f"symbol must be one of {', '.join(SYMBOLS)}", pointer="symbol")
    return value


@bp.get("/passports/<code>/label")
def label(code: str) -> Response:
    """A printable label: the QR code (or DataMatrix) and the text of the battery's unique
    product identifier, the GB/T 34014 code, and the Annex VI Part A fields of the public
    passport that fit."""
    symbol = _symbol()
    passport, credentials = services.passport_credentials(instance(), code, None)
    public_section = public_section_of(credentials)
    public = subjects_by_section(credentials).get(public_section, {}) if public_section else {}
    terms = [a.term for a in load_catalog() if LABEL_MARK in a.legal_ref and a.term in public]
    terms.sort(key=lambda term: FIRST.index(term) if term in FIRST else len(FIRST))
    candidates = [label_field(term, public[term]) for term in terms]
    # The code is printed under the QR code already; fields that only repeat it go.
    candidates = [f for f in candidates if f.text != passport.battery_code]
    fields, more = fitting(candidates)
    identifier = services.identifier_of(instance().db, passport.battery_code) or passport.id
    return page(
        "label.html",
        passport=passport,
        fields=fields,
        more=more,
        identifier=identifier,
        url_parts=url_parts(identifier),
        symbol=symbol,
        qr_error=QR_ERROR,
        qr_border=QR_BORDER,
        datamatrix_border=DATAMATRIX_BORDER,
    )
