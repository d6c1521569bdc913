"""The mapping from passport attributes to the IDTA-02035 Digital Battery Passport
submodels, and how it fills them.

The mapping is data: ``mappings/eu-passport-to-idta-02035/<version>.csv``, one row per
(attribute, template element) pair, with the SKOS relation of the match, the element's
``semanticId`` (checked against the template), how the value is converted and why. An
attribute that no template element takes has one ``noMatch`` row saying why, so it is
listed, never dropped: the same gap semantics as the national mapping tables. Every
catalog attribute has at least one row.

Conversions (the ``convert`` column, parameters as JSON in ``params``):

- ``value``: the catalog's JSON value read as the element's XSD type (a decimal string
  into ``xs:float``, an integer into ``xs:unsignedInt``); a value the type cannot hold
  (``95.5`` for ``xs:integer``, a negative count) is reported, never rounded or bent;
- ``date``: ``YYYY-MM`` stated as the first day of the month (``xs:date``);
- ``enum``: ``params.values`` maps catalog values to the template's;
- ``chemistry-name``: the clear name of the chemistry family (letters of the short name);
- ``months-since``: the months from ``params.since`` (another attribute, ``YYYY-MM``)
  to the value, as an ``xs:duration`` text (``P96M``);
- ``text-language``: a MultiLanguageProperty, tagged ``zh`` when the text is written in
  Chinese characters, else ``en``.

A path ending in ``[]`` takes one list item per value of a multi-valued attribute;
``params.stamps`` names ``xs:dateTime`` siblings (``LastUpdate``) written with the time
the dynamic value was measured.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from gateway.annex_xiii import Point
from gateway.errors import MappingInvalid
from gateway.jsonvalues import YEAR_MONTH_LEXICAL
from gateway.paths import MAPPINGS_DIR
from gateway.transform.idta_templates import (
    InstanceBuilder,
    Step,
    Template,
    from_lexical,
    load_templates,
    parse_path,
    template_path,
)
from gateway.vocab.catalog import Catalog, load_catalog

SET_NAME = "eu-passport-to-idta-02035"
CURRENT_VERSION = "1.0.0"
MAPPING_SET_BASE = "https://w3id.org/cn-eu-battery/mappings/"
COLUMNS = (
    "attribute",
    "relation",
    "submodel",
    "path",
    "semantic_id",
    "convert",
    "params",
    "comment",
)
RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "noMatch")
CONVERTS = ("value", "date", "enum", "chemistry-name", "months-since", "text-language")
#: The seven parts of IDTA-02035, by submodel ``idShort``, in part order.
PARTS = (
    "BatteryNameplate",
    "HandoverDocumentation",
    "CarbonFootprint",
    "TechnicalData",
    "ProductCondition",
    "MaterialComposition",
    "Circularity",
)
_DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class MappingRow:
    """One row of the table.

    :ivar line: the CSV line (the header is line 1).
    :ivar steps: the parsed path; empty for ``noMatch``.
    """

    line: int
    attribute: str
    relation: str
    submodel: str
    path: str
    semantic_id: str
    convert: str
    params: Mapping[str, Any] = field(hash=False)
    comment: str
    steps: tuple[Step, ...] = ()

    @property
    def mapped(self) -> bool:
        return self.relation != "noMatch"

    @property
    def stamps(self) -> tuple[str, ...]:
        return tuple(self.params.get("stamps", ()))


@dataclass(frozen=True)
class IdtaMapping:
    """A version of the table.

    :ivar sha256: of the file's bytes; the export names it.
    """

    version: str
    sha256: str
    rows: tuple[MappingRow, ...]

    @property
    def ref(self) -> str:
        return f"{SET_NAME}@{self.version}"

    @property
    def iri(self) -> str:
        return f"{MAPPING_SET_BASE}{SET_NAME}/{self.version}"

    def rows_for(self, key: str) -> tuple[MappingRow, ...]:
        return tuple(r for r in self.rows if r.attribute == key)

    def unmapped(self) -> tuple[MappingRow, ...]:
        """The ``noMatch`` rows: attributes no template element takes, with the reason."""
        return tuple(r for r in self.rows if not r.mapped)


# -- reading and checking ------------------------------------------------------------------


def read_mapping(
    text: str,
    version: str,
    *,
    catalog: Catalog | None = None,
    templates: Mapping[str, Template] | None = None,
) -> IdtaMapping:
    """Read a table and check it against the catalog and the shipped templates.

    :raises MappingInvalid: every problem, each with its line and column, in ``errors``.
    """
    catalog = catalog or load_catalog()
    templates = templates if templates is not None else load_templates()
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise MappingInvalid(f"the header must be {','.join(COLUMNS)}")
    errors: list[dict[str, Any]] = []
    rows: list[MappingRow] = []
    for line, raw in enumerate(reader, start=2):
        problems: list[tuple[str, str]] = []
        row = _row(line, raw, catalog, templates, problems)
        errors.extend({"row": line, "column": c, "message": m} for c, m in problems)
        if row is not None:
            rows.append(row)
    errors.extend(_table_problems(rows, catalog))
    if errors:
        raise MappingInvalid(
            f"{SET_NAME}@{version}: {len(errors)} problem(s); first: line "
            f"{errors[0]['row']}, {errors[0]['column']}: {errors[0]['message']}",
            errors=errors,
        )
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return IdtaMapping(version, sha256, tuple(rows))


def _row(
    line: int,
    raw: Mapping[str, str | None],
    catalog: Catalog,
    templates: Mapping[str, Template],
    problems: list[tuple[str, str]],
) -> MappingRow | None:
    cells = {c: (raw.get(c) or "").strip() for c in COLUMNS}
    if cells["attribute"] not in catalog.by_key:
        problems.append(("attribute", f"{cells['attribute']!r} is not a catalog key"))
    if cells["relation"] not in RELATIONS:
        problems.append(("relation", f"is not one of {', '.join(RELATIONS)}"))
        return None
    if not cells["comment"] and cells["relation"] != "exactMatch":
        problems.append(("comment", "a row that is not an exact match says why"))
    try:
        params = json.loads(cells["params"]) if cells["params"] else {}
    except ValueError:
        params = None
    if not isinstance(params, dict):
        problems.append(("params", "is not a JSON object"))
        return None
    if cells["relation"] == "noMatch":
        for column in ("submodel", "path", "semantic_id", "convert", "params"):
            if cells[column]:
                problems.append((column, "a noMatch row names no element"))
        return MappingRow(line, cells["attribute"], "noMatch", "", "", "", "", {}, cells["comment"])
    template = templates.get(cells["submodel"])
    if template is None or template.name not in PARTS:
        problems.append(("submodel", f"{cells['submodel']!r} is not an IDTA-02035 submodel"))
        return None
    try:
        steps = parse_path(cells["path"])
        element = template.element(template_path(steps))
    except (ValueError, KeyError):
        problems.append(("path", f"{cells['path']!r} is no element of {template.name}"))
        return None
    if element.semantic_id != cells["semantic_id"]:
        problems.append(
            ("semantic_id", f"the template gives {cells['path']} {element.semantic_id!r}")
        )
    convert = cells["convert"]
    if convert not in CONVERTS:
        problems.append(("convert", f"is not one of {', '.join(CONVERTS)}"))
    elif (convert == "text-language") != (element.kind == "MultiLanguageProperty"):
        problems.append(("convert", f"{convert} cannot fill a {element.kind}"))
    problems.extend(("params", p) for p in _param_problems(convert, params, catalog, template))
    return MappingRow(
        line,
        cells["attribute"],
        cells["relation"],
        template.name,
        cells["path"],
        cells["semantic_id"],
        convert,
        MappingProxyType(params),
        cells["comment"],
        steps,
    )


def _param_problems(
    convert: str, params: Mapping[str, Any], catalog: Catalog, template: Template
) -> list[str]:
    problems = []
    known = {"stamps"} | {
        "enum": {"values"},
        "chemistry-name": {"values"},
        "months-since": {"since"},
    }.get(convert, set())
    problems += [
        f"{name!r} is not a parameter of {convert}" for name in params if name not in known
    ]
    if convert in ("enum", "chemistry-name"):
        values = params.get("values")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            problems.append(f"{convert} needs values: an object of strings")
    if convert == "months-since" and params.get("since") not in catalog.by_key:
        problems.append("months-since needs since: a catalog key")
    stamps = params.get("stamps", [])
    if not isinstance(stamps, list):
        return [*problems, "stamps must be a list of paths"]
    for stamp in stamps:
        try:
            element = template.element(template_path(parse_path(str(stamp))))
        except (ValueError, KeyError):
            problems.append(f"stamp {stamp!r} is no element of {template.name}")
            continue
        if element.value_type != "xs:dateTime":
            problems.append(f"stamp {stamp!r} is not an xs:dateTime property")
    return problems


def _table_problems(rows: list[MappingRow], catalog: Catalog) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    keys = {r.attribute for r in rows}
    errors += [
        {"row": 0, "column": "attribute", "message": f"catalog attribute {a.key} has no row"}
        for a in catalog
        if a.key not in keys
    ]
    targets: dict[tuple[str, str], int] = {}
    for row in rows:
        if not row.mapped:
            if any(r.mapped for r in rows if r.attribute == row.attribute):
                errors.append(
                    {"row": row.line, "column": "relation", "message": "mapped on another row"}
                )
            continue
        target = (row.submodel, row.path)
        if target in targets:
            errors.append(
                {"row": row.line, "column": "path", "message": f"line {targets[target]} fills it"}
            )
        targets.setdefault(target, row.line)
    return errors


@cache
def _shipped(version: str) -> IdtaMapping:
    path = MAPPINGS_DIR / SET_NAME / f"{version}.csv"
    if not path.is_file():
        raise MappingInvalid(f"no {SET_NAME} version {version}")
    return read_mapping(path.read_text(encoding="utf-8"), version)


def load_mapping(version: str = CURRENT_VERSION) -> IdtaMapping:
    """A shipped version of the table, read and checked once.

    :raises MappingInvalid: no such version, or the table has problems.
    """
    return _shipped(version)


# -- filling ---------------------------------------------------------------------------------


class _Unfit(Exception):
    """A well-formed attribute value the element cannot hold."""


@dataclass(frozen=True)
class Rejected:
    """An attribute value left out: the element cannot hold it. Never quotes the value."""

    attribute: str
    submodel: str
    path: str
    reason: str


@dataclass
class Filled:
    """The IDTA-02035 submodels of one view, being filled.

    :ivar builders: by submodel ``idShort``, only those with a value.
    """

    builders: dict[str, InstanceBuilder]
    rejected: list[Rejected]


def fill_submodels(
    mapping: IdtaMapping,
    attributes: Mapping[str, Any],
    points: Collection[Point],
    *,
    measured_at: datetime,
    catalog: Catalog | None = None,
) -> Filled:
    """Fill the IDTA-02035 submodels from the attributes of a view.

    :param attributes: catalog key -> value (JSON form) as the caller may see them; a key
        whose Annex XIII point is not in ``points`` is left out whatever its value.
    :param points: the Annex XIII points the view holds.
    :param measured_at: the time written to the ``LastUpdate`` stamps of dynamic values.
    """
    catalog = catalog or load_catalog()
    templates = load_templates()
    builders: dict[str, InstanceBuilder] = {}
    rejected: list[Rejected] = []
    stamped: set[tuple[str, str]] = set()
    for row in mapping.rows:
        value = attributes.get(row.attribute)
        attribute = catalog.by_key.get(row.attribute)
        if not row.mapped or value is None or attribute is None or attribute.point not in points:
            continue
        builder = builders.get(row.submodel) or InstanceBuilder(templates[row.submodel])
        element = builder.template.element(template_path(row.steps))
        values = value if isinstance(value, list) else [value]
        repeat = row.steps[-1].item == ""
        try:
            if len(values) > 1 and not repeat:
                raise _Unfit("several values for a single-valued element")
            converted = [_convert(row, v, element.value_type, attributes) for v in values]
        except _Unfit as exc:
            rejected.append(Rejected(row.attribute, row.submodel, row.path, str(exc)))
            continue
        for item in converted:
            builder.place(row.steps, item, row.attribute, new_item=repeat)
        for stamp in row.stamps:
            if (row.submodel, stamp) not in stamped:
                stamped.add((row.submodel, stamp))
                builder.place(parse_path(stamp), measured_at.astimezone(UTC), row.attribute)
        builders[row.submodel] = builder
    return Filled(builders, rejected)


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Unfit("is not a text or a number")
    return str(value)


def _convert(
    row: MappingRow, value: Any, value_type: str | None, attributes: Mapping[str, Any]
) -> Any:
    text = _text(value)
    match row.convert:
        case "text-language":
            return {"zh" if _CJK.search(text) else "en": text}
        case "date":
            if not _DATE.fullmatch(text):
                raise _Unfit("is not YYYY-MM or YYYY-MM-DD")
            text = text if len(text) == 10 else f"{text}-01"
        case "enum":
            if text not in row.params["values"]:
                raise _Unfit(
                    f"has no value in the template (known: {sorted(row.params['values'])})"
                )
            text = row.params["values"][text]
        case "chemistry-name":
            family = re.sub(r"[^A-Z]", "", text.upper())
            if family not in row.params["values"]:
                raise _Unfit("names no chemistry family with a known clear name")
            text = row.params["values"][family]
        case "months-since":
            since = attributes.get(row.params["since"])
            if not isinstance(since, str) or not YEAR_MONTH_LEXICAL.fullmatch(since):
                raise _Unfit(f"needs {row.params['since']} (YYYY-MM) to count the months from")
            if not YEAR_MONTH_LEXICAL.fullmatch(text):
                raise _Unfit("is not YYYY-MM")
            months = _months(text) - _months(since)
            if months < 0:
                raise _Unfit(f"ends before {row.params['since']}")
            text = f"P{months}M"
    try:
        return from_lexical(text, value_type or "xs:string")
    except (ValueError, TypeError):
        raise _Unfit(f"is not a valid {value_type}") from None


def _months(year_month: str) -> int:
    year, month = year_month.split("-")
    return int(year) * 12 + int(month)
