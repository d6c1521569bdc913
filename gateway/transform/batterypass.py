"""Export of passport attributes as Battery Pass 1.2 aspect payloads.

The Battery Pass consortium's data model (``vocab/batterypass/``, CC-BY-4.0) splits a
passport into seven aspects, each with a generated JSON schema (Draft 4). The table in
``vocab/batterypass/projection.json`` (read by :mod:`gateway.transform.batterypass_table`)
says which catalog attribute fills which property of which aspect and how the value is
converted; ``docs/batterypass.md`` is its human-readable form.

What an export promises: an aspect is emitted only when every property its schema
requires is filled from the attributes, and then it validates against the schema.
Nothing is invented to satisfy a schema: no placeholder text, no empty arrays where the
schema requires an array (an empty list would claim that there is nothing to list).
Aspects that cannot be completed are reported with the Battery Pass paths that block
them. A value that is well-formed for the catalog but that the Battery Pass schema
cannot carry (a test name where a URI is required) is left out and reported, never bent
to fit.

Three things the attributes do not say come from the record, through the caller: the
structure of an address the mapping joined into one line (:func:`addresses_of` finds
it behind the attribute, and only when it gives exactly the value exported), the parts
the EU supplement gives of an attribute the catalog holds as one text (per-material CAS
numbers and masses, spare-part suppliers: :func:`details_of`; they go out only with the
attribute they detail), and the time the dynamic values were measured (``lastUpdate``,
:func:`measurement_times` or :func:`gateway.transform.measurements.measured_at`). The
passport id, an HTTPS URL, travels as its ``urn:`` alias (:func:`urn_alias`), the form
the schema requires.

Battery Pass payloads are not signed, so this is the one place where decimal strings
become JSON numbers (DESIGN §5 keeps floats out of credentials only).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from jsonschema import Draft4Validator  # type: ignore[import-untyped]  # no stubs shipped

from gateway.annex_xiii import PUBLIC_SECTION, is_section, points_of
from gateway.errors import TransformError
from gateway.jsonvalues import DECIMAL_LEXICAL, YEAR_MONTH_LEXICAL, is_safe_integer
from gateway.mapping import transforms
from gateway.transform import paths
from gateway.transform.batterypass_table import (
    ASPECTS,
    Projection,
    Rule,
    node_at,
    projection,
    resolve,
)
from gateway.transform.engine import Conversion
from gateway.transform.measurements import measurement_time
from gateway.vocab.catalog import load_catalog

_DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
#: A JSON number in a Battery Pass payload is an IEEE double; beyond 15 significant
#: digits a decimal no longer survives the round trip.
_DOUBLE_DIGITS = 15
#: The namespace of the passport id aliases (``urn:<nid>:<hex>``, the schema's pattern
#: ``^urn:[a-z0-9]+:[a-z0-9]+$``).
URN_NID = "cneubattery"
#: Several values for a single-valued text property are joined with this.
TEXT_SEPARATOR = "; "
#: Parts of a structured address Battery Pass 1.2 has no property for.
_UNCARRIED_PARTS = ("city", "province")
#: The record member that holds the EU supplement.
SUPPLEMENT = "eu_supplement"


@dataclass(frozen=True)
class BatteryPassExport:
    """The result of projecting one passport onto the Battery Pass aspects.

    :ivar payloads: aspect -> payload, only for aspects whose required properties are all
        filled; each validates against its schema.
    :ivar missing: aspect -> Battery Pass paths of required properties left unfilled,
        for every aspect not in ``payloads``.
    :ivar rejected: aspect -> one message per attribute value the Battery Pass schema
        cannot carry (the value was left out).
    :ivar partial: aspect -> what could be filled of each aspect in ``missing``; for
        reading the gaps in context, never for exchange (it breaks its schema).
    """

    payloads: Mapping[str, dict[str, Any]]
    missing: Mapping[str, list[str]]
    rejected: Mapping[str, list[str]]
    partial: Mapping[str, dict[str, Any]]


class _Unfit(Exception):
    """A well-formed attribute value that the Battery Pass property cannot carry."""


@cache
def _validator(aspect: str) -> Draft4Validator:
    # Every schema declares draft-04 ("$schema"); format checking is on so that "uri"
    # and "date-time" are enforced, not just annotated.
    return Draft4Validator(
        projection().schemas[aspect], format_checker=Draft4Validator.FORMAT_CHECKER
    )


@cache
def _leaf_validator(aspect: str, path: str) -> Draft4Validator:
    schema = projection().schemas[aspect]
    node = dict(node_at(schema, path))
    # Keep the components so that the leaf's own $refs (array items) still resolve.
    node["components"] = schema["components"]
    return Draft4Validator(node, format_checker=Draft4Validator.FORMAT_CHECKER)


def _leaf_errors(aspect: str, path: str, value: Any) -> list[str]:
    return [e.message for e in _leaf_validator(aspect, path).iter_errors(value)]


# -- conversions ------------------------------------------------------------------------


def _contract(key: str, rule: str) -> TransformError:
    return TransformError(f"attribute {key!r} {rule}", pointer=f"/{key}")


def _decimal(key: str, value: Any) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and DECIMAL_LEXICAL.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            pass
    raise _contract(key, f"must be a decimal string or an integer, not {value!r}")


def _json_number(number: Decimal) -> int | float:
    if number == number.to_integral_value():
        integral = int(number)
        if is_safe_integer(integral):
            return integral
    if len(number.normalize().as_tuple().digits) > _DOUBLE_DIGITS:
        raise _Unfit(f"{number} has more digits than a JSON number here carries exactly")
    return float(number)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _contract(key, f"must be a non-empty string, not {value!r}")
    return value


def urn_alias(passport_id: str) -> str:
    """The ``urn:`` alias of a passport id: ``urn:cneubattery:`` and the first 40 hex
    digits (160 bits) of the SHA-256 of the id. Anyone holding the id can check it; the
    id itself (the URL the QR code encodes) stays the passport's name everywhere else."""
    digest = hashlib.sha256(passport_id.encode("utf-8")).hexdigest()
    return f"urn:{URN_NID}:{digest[:40]}"


def addresses_of(conversion: Conversion, record: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The structured addresses behind the address attributes a conversion joined into
    one line of text, by catalog key.

    An address is taken only when the mapping row that filled the attribute joined an
    object of the record and joining that object again gives exactly the value
    exported: so nothing the data policy withheld, and nothing but what the passport
    states, reaches the projection.

    :param record: the national record the conversion was made from.
    :returns: catalog key -> the address's parts (``street``, ``postal_code``,
        ``city``, ``province``, ``country``), the empty ones left out.
    """
    rows = {row.number: row for row in conversion.mapping.rows}
    context = transforms.Context(record=record, base_url="", decode_code=lambda code: {})
    found: dict[str, dict[str, str]] = {}
    for result in conversion.results:
        row = rows.get(result.row)
        if result.value is None or result.source is None or row is None or row.transform != "join":
            continue
        values = paths.resolve(record, result.source)
        if len(values) != 1 or not isinstance(values[0], Mapping):
            continue
        try:
            joined = transforms.apply("join", values[0], context, row.params)
        except TransformError:
            continue
        if joined != result.value:
            continue
        found[result.attribute.key] = {
            str(k): str(v)
            for k, v in values[0].items()
            if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip()
        }
    return found


def details_of(
    record: Mapping[str, Any], withheld: Collection[str] = ()
) -> dict[str, list[Mapping[str, Any]]]:
    """The parts the record's EU supplement gives of attributes the catalog holds as one
    text (``battery_materials``, ``spare_part_suppliers``), as far as the data policy
    lets them leave.

    :param withheld: the record paths the data policy kept in China (a passport's
        ``gaps.policy.withheld``, or a decision's withheld paths): a withheld member, or
        a withheld field inside its items, is left out.
    :returns: supplement member -> its items, for the members the projection table reads.
    """
    supplement = record.get(SUPPLEMENT)
    if not isinstance(supplement, Mapping):
        return {}
    found: dict[str, list[Mapping[str, Any]]] = {}
    for member in sorted({r.member for r in projection().rules if r.member}):
        items = supplement.get(member)
        if not isinstance(items, list):
            continue
        kept = [_unwithheld(item, f"{SUPPLEMENT}.{member}", withheld) for item in items]
        kept = [item for item in kept if isinstance(item, Mapping) and item]
        if kept and not _is_withheld(f"{SUPPLEMENT}.{member}", withheld):
            found[member] = kept
    return found


def _is_withheld(path: str, withheld: Collection[str]) -> bool:
    return any(path == w or path.startswith(f"{w}.") for w in withheld)


def _unwithheld(value: Any, path: str, withheld: Collection[str]) -> Any:
    if isinstance(value, Mapping):
        return {
            k: _unwithheld(v, f"{path}.{k}", withheld)
            for k, v in value.items()
            if not _is_withheld(f"{path}.{k}", withheld)
        }
    if isinstance(value, list):
        return [_unwithheld(v, path, withheld) for v in value]
    return value


def _detail_values(rule: Rule, items: list[Mapping[str, Any]]) -> list[Any]:
    """The value of a detail rule's field in each item (``None`` where an item has none)."""
    field = str(rule.detail).split(".", 1)[1]
    out: list[Any] = []
    for item in items:
        node: Any = item
        for step in field.split("."):
            node = node.get(step) if isinstance(node, Mapping) else None
        out.append(node)
    return out


def _convert(
    rule: Rule,
    value: Any,
    attributes: Mapping[str, Any],
    addresses: Mapping[str, Mapping[str, str]],
) -> Any:
    key = rule.key
    match rule.convert:
        case "text":
            return _text(key, value)
        case "text-list":
            items = value if isinstance(value, list) else [value]
            return [_text(key, item) for item in items]
        case "language-text":
            items = value if isinstance(value, list) else [value]
            return {rule.language: "\n".join(_text(key, item) for item in items)}
        case "number":
            return _json_number(_decimal(key, value) * rule.scale)
        case "integer":
            number = _decimal(key, value)
            if number != number.to_integral_value():
                raise _Unfit(f"{value!r} is not a whole number")
            return int(number)
        case "share-of":
            # Battery Pass gives each life-cycle stage in kgCO2e/kWh (the unit of its
            # model); the catalog gives the stage's share in % of the total (Art. 7(1)).
            total = attributes.get(rule.total) if rule.total else None
            if rule.total is None or total is None:
                raise _Unfit(f"needs {rule.total} to turn a share in % into kgCO2e/kWh")
            return _json_number(_decimal(key, value) * _decimal(rule.total, total) / 100)
        case "date-time":
            text = _text(key, value)
            # DIN DKE SPEC 99100 6.1.3.2 gives month and year; Battery Pass wants an
            # xsd:dateTimeStamp, so the month is stated as its first instant in UTC.
            if YEAR_MONTH_LEXICAL.fullmatch(text):
                return f"{text}-01T00:00:00Z"
            if _DATE.fullmatch(text):
                return f"{text}T00:00:00Z"
            raise _contract(key, f"must be YYYY-MM or YYYY-MM-DD, not {value!r}")
        case "enum":
            text = _text(key, value)
            if text not in rule.values:
                raise _Unfit(f"{text!r} has no Battery Pass value (known: {sorted(rule.values)})")
            return rule.values[text]
        case "chemistry-name":
            family = re.sub(r"[^A-Z]", "", _text(key, value).upper())
            if family not in rule.values:
                raise _Unfit(f"no clear name known for chemistry {value!r}")
            return rule.values[family]
        case "urn-alias":
            return urn_alias(_text(key, value))
        case "boolean":
            if not isinstance(value, bool):
                raise _contract(key, f"must be true or false, not {value!r}")
            return value
        case "objects":
            # A list of the record's objects (a supplier's spare parts), each renamed
            # member by member to the Battery Pass property names.
            items = value if isinstance(value, list) else [value]
            return [
                {
                    name: _text(key, item[field])
                    for field, name in rule.values.items()
                    if field in item
                }
                for item in items
                if isinstance(item, Mapping)
            ]
        case "address-part":
            _text(key, value)
            parts = addresses.get(key)
            if parts is None:
                raise _Unfit(
                    "one line of text, and the record's structured address was not given; "
                    "splitting the line would be a guess"
                )
            part = parts.get(str(rule.part))
            if not part:
                raise _Unfit(f"the structured address has no {str(rule.part).replace('_', ' ')}")
            return part
    raise AssertionError(rule.convert)  # pragma: no cover - checked when loading


@cache
def _takes_uri(aspect: str, path: str) -> bool:
    return node_at(projection().schemas[aspect], path).get("format") == "uri"


def _single(rule: Rule, items: list[Any]) -> tuple[Any, list[Any]]:
    """One value of several given to a single-valued text property, and those left out:
    texts are joined with :data:`TEXT_SEPARATOR`; a URI cannot be joined, so the first
    is written and the others are left out (and reported)."""
    texts = [_text(rule.key, item) for item in items]
    if _takes_uri(rule.aspect, rule.path):
        return texts[0], texts[1:]
    return TEXT_SEPARATOR.join(texts), []


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- building ---------------------------------------------------------------------------


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for step in parents:
        target = target.setdefault(step, {})
    target[leaf] = value


def _array(target: dict[str, Any], path: str) -> list[dict[str, Any]]:
    *parents, leaf = path.split(".")
    for step in parents:
        target = target.setdefault(step, {})
    elements: list[dict[str, Any]] = target.setdefault(leaf, [])
    return elements


def _place(payload: dict[str, Any], rule: Rule, value: Any, index: int = 0) -> None:
    if rule.each == "value":
        _set(payload, rule.path, value)
        return
    head, tail = rule.path.split("[].", 1)
    elements = _array(payload, head)
    if rule.each == "all":
        for element in elements:
            _set(element, tail, value)
        return
    if rule.each == "element":
        found = next(
            (e for e in elements if all(e.get(k) == v for k, v in rule.constants.items())),
            None,
        )
        if found is None:
            found = dict(rule.constants)
            elements.append(found)
        element = found
    else:
        while len(elements) <= index:
            elements.append({})
        element = elements[index]
        element.update(rule.constants)
    _set(element, tail, value)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _element_label(
    projection_: Projection, aspect: str, array: str, index: int, element: Mapping[str, Any]
) -> str:
    for rule in projection_.rules:
        if rule.aspect == aspect and rule.each == "element" and rule.path.startswith(f"{array}[]."):
            for name in rule.constants:
                if name in element:
                    return f"[{name}={element[name]}]"
    return f"[{index}]"


def _leaves(schema: Mapping[str, Any], node: Mapping[str, Any], path: str) -> list[str]:
    """The required leaf paths under an absent property."""
    node = resolve(schema, node)
    if node.get("type") == "object" and "properties" in node:
        out: list[str] = []
        for name in node.get("required", []):
            out += _leaves(schema, node["properties"][name], f"{path}.{name}")
        return out or [path]
    if node.get("type") == "array":
        items = resolve(schema, node["items"])
        if items.get("type") == "object":
            return _leaves(schema, items, f"{path}[]")
    return [path]


def _missing(
    projection_: Projection, aspect: str, node: Mapping[str, Any], data: Any, path: str
) -> list[str]:
    schema = projection_.schemas[aspect]
    node = resolve(schema, node)
    prefix = f"{path}." if path else ""
    if node.get("type") == "object" and "properties" in node and isinstance(data, dict):
        out: list[str] = []
        for name, child in node["properties"].items():
            if _present(data.get(name)):
                out += _missing(projection_, aspect, child, data[name], prefix + name)
            elif name in node.get("required", []):
                out += _leaves(schema, child, prefix + name)
        return out
    if node.get("type") == "array" and isinstance(data, list):
        out = []
        for i, element in enumerate(data):
            label = (
                _element_label(projection_, aspect, path, i, element)
                if isinstance(element, dict)
                else f"[{i}]"
            )
            out += _missing(projection_, aspect, node["items"], element, path + label)
        return out
    return []


def export(
    attributes: Mapping[str, object],
    *,
    sections: Collection[str] = (PUBLIC_SECTION,),
    measured_at: datetime | Mapping[str, datetime] | None = None,
    addresses: Mapping[str, Mapping[str, str]] | None = None,
    details: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> BatteryPassExport:
    """Project passport attributes onto the Battery Pass 1.2 aspects.

    :param attributes: catalog key -> value, as the transform engine gives them (decimal
        strings, integers, ``YYYY-MM`` / ``YYYY-MM-DD`` dates, URIs, or lists of those
        for multi-valued attributes).
    :param sections: the sections (``gateway.annex_xiii``: ``annex-xiii-N``, or an
        earlier access group) whose Annex XIII points may be exported; by default only
        the public part (point 1). Any combination is fine: an aspect that needs a
        point left out is reported in ``missing``.
    :param measured_at: when the dynamic values were measured (timezone-aware): one time
        for all, or each attribute's own by catalog key (:func:`measurement_times`); the
        ``lastUpdate`` beside each value; without one it is reported as left out.
    :param addresses: the structured addresses behind address attributes
        (:func:`addresses_of`), by catalog key; without one, the address's parts are
        reported as left out.
    :param details: the parts of attributes the catalog holds as one text, by EU
        supplement member (:func:`details_of`); each goes out only with the attribute it
        details. An array they fill takes no elements from other attributes (they give
        each element whole).
    :returns: the complete payloads, what blocks the other aspects, and which values
        the Battery Pass schemas could not carry.
    :raises TransformError: a value breaks the attribute's catalog type (the pointer
        names the attribute), or ``measured_at`` is naive.
    """
    unknown = sorted(str(s) for s in sections if not is_section(s))
    if unknown:
        raise TransformError(f"unknown sections {unknown}", pointer="/sections")
    every = measured_at if isinstance(measured_at, datetime) else None
    times = measured_at if isinstance(measured_at, Mapping) else None
    moments = list(times.values()) if times is not None else [every] if every else []
    if any(moment.tzinfo is None for moment in moments):
        raise TransformError("the time of measurement needs its UTC offset", pointer="/measuredAt")
    given = addresses or {}
    points = {point for name in sections for point in points_of(name)}
    table = projection()
    catalog = load_catalog()
    allowed = {
        key: value
        for key, value in attributes.items()
        if key in catalog.by_key and catalog.by_key[key].point in points and _present(value)
    }
    parts = details or {}
    built: dict[str, dict[str, Any]] = {aspect: {} for aspect in ASPECTS}
    rejected: dict[str, list[str]] = {aspect: [] for aspect in ASPECTS}
    # Arrays whose elements the supplement's parts give whole.
    from_parts = {
        (rule.aspect, _array_of(rule.path))
        for rule in table.rules
        if rule.member and rule.key in allowed and parts.get(rule.member)
    }
    for rule in table.rules:
        if rule.key not in allowed:
            continue
        value = allowed[rule.key]
        notes = rejected[rule.aspect]
        if rule.member:
            values = _detail_values(rule, list(parts.get(rule.member, [])))
        elif rule.each != "value" and (rule.aspect, _array_of(rule.path)) in from_parts:
            notes.append(
                f"{rule.path}: {rule.key} {value!r} left out: the record's EU supplement "
                f"gives each element of {_array_of(rule.path)} whole"
            )
            continue
        elif rule.each == "position":
            values = value if isinstance(value, list) else [value]
        elif isinstance(value, list) and rule.convert not in ("text-list", "language-text"):
            if rule.convert != "text":
                raise _contract(rule.key, "must be a single value for this property")
            one, left_out = _single(rule, value)
            values = [one]
            for item in left_out:
                notes.append(
                    f"{rule.path}: {rule.key} {item!r} left out: the property holds one URI; "
                    "the first given is written"
                )
        else:
            values = [value]
        for index, item in enumerate(values):
            where = rule.path.replace("[]", f"[{index}]") if rule.each == "position" else rule.path
            if item is None:  # an item of the supplement's parts without this field
                continue
            try:
                converted = _convert(rule, item, allowed, given)
                errors = _leaf_errors(rule.aspect, rule.path, converted)
                if errors:
                    raise _Unfit("; ".join(errors))
            except _Unfit as e:
                notes.append(f"{where}: {rule.key} {item!r} left out: {e}")
                continue
            _place(built[rule.aspect], rule, converted, index)
            if rule.stamp is not None:
                moment = times.get(rule.key) if times is not None else every
                _stamp(built[rule.aspect], rule, index, moment, notes)
        if rule.member and str(rule.detail).endswith(".address.street"):
            for index, item in enumerate(parts.get(rule.member, [])):
                address = item.get("address")
                lost = [
                    p for p in _UNCARRIED_PARTS if isinstance(address, Mapping) and address.get(p)
                ]
                if lost:
                    notes.append(
                        f"{rule.path.replace('[]', f'[{index}]').rsplit('.', 1)[0]}: {rule.key} "
                        f"{' and '.join(lost)} left out: Battery Pass 1.2 addresses have no "
                        "locality or region"
                    )
        if rule.convert == "address-part" and rule.part == "street" and rule.key in given:
            lost = [p for p in _UNCARRIED_PARTS if given[rule.key].get(p)]
            if lost:
                notes.append(
                    f"{rule.path.rsplit('.', 1)[0]}: {rule.key} {' and '.join(lost)} left out: "
                    "Battery Pass 1.2 addresses have no locality or region"
                )
    payloads: dict[str, dict[str, Any]] = {}
    missing: dict[str, list[str]] = {}
    for aspect in ASPECTS:
        schema = table.schemas[aspect]
        gaps = _missing(table, aspect, schema, built[aspect], "")
        if gaps:
            missing[aspect] = gaps
            continue
        errors = validate({aspect: built[aspect]})[aspect]
        if errors:
            # Every value passed its property's schema and every required property is
            # there, so an error here is a fault in the projection table.
            raise TransformError(
                f"the {aspect} payload breaks its schema: {'; '.join(errors)}",
                pointer=f"/{aspect}",
            )
        payloads[aspect] = built[aspect]
    return BatteryPassExport(
        payloads=payloads,
        missing=missing,
        rejected={aspect: notes for aspect, notes in rejected.items() if notes},
        partial={aspect: built[aspect] for aspect in missing},
    )


def measurement_times(conversion: Conversion) -> dict[str, datetime]:
    """When each dynamic value of a conversion was measured, as the transform engine
    found it (the time the record states beside the value), by catalog key.

    :returns: catalog key -> timezone-aware time; a value without a readable time of
        measurement is absent (its ``lastUpdate`` is then reported as left out).
    """
    found: dict[str, datetime] = {}
    for result in conversion.results:
        if result.value is None or not result.measured_at:
            continue
        try:
            found[result.attribute.key] = measurement_time(result.measured_at)
        except ValueError:
            continue
    return found


def _array_of(path: str) -> str:
    return path.split("[].", 1)[0]


def _stamp(
    payload: dict[str, Any],
    rule: Rule,
    index: int,
    measured_at: datetime | None,
    notes: list[str],
) -> None:
    """Put the time of measurement beside a dynamic value just placed, or say why not."""
    stamp = replace(rule, path=str(rule.stamp))
    where = stamp.path.replace("[]", f"[{index}]") if rule.each == "position" else stamp.path
    if measured_at is None:
        note = (
            f"{where}: {rule.key} lastUpdate left out: the record states no time of "
            "measurement (usage.as_of)"
        )
        if note not in notes:
            notes.append(note)
        return
    _place(payload, stamp, _timestamp(measured_at), index)


def project(
    attributes: Mapping[str, object], *, sections: Collection[str] = (PUBLIC_SECTION,)
) -> dict[str, dict[str, Any]]:
    """The complete Battery Pass aspect payloads of a passport.

    :param attributes: catalog key -> value (see :func:`export`).
    :param sections: sections to export; by default the public part only.
    :returns: aspect name -> payload, for the aspects whose required properties are all
        filled; every payload validates against its Battery Pass schema.
    :raises TransformError: a value breaks the attribute's catalog type.
    """
    return dict(export(attributes, sections=sections).payloads)


def missing_required(
    attributes: Mapping[str, object], *, sections: Collection[str] = (PUBLIC_SECTION,)
) -> dict[str, list[str]]:
    """What keeps each incomplete aspect out of :func:`project`.

    :param attributes: catalog key -> value (see :func:`export`).
    :param sections: sections to export; by default the public part only.
    :returns: aspect name -> Battery Pass paths of the required properties that stay
        unfilled (``a[].b`` for an absent array, ``a[recycledMaterial=Nickel].b`` or
        ``a[0].b`` for an element); complete aspects are absent.
    :raises TransformError: a value breaks the attribute's catalog type.
    """
    return dict(export(attributes, sections=sections).missing)


def validate(payloads: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Check Battery Pass payloads against the aspect schemas (JSON Schema draft 4).

    :param payloads: aspect name -> payload.
    :returns: aspect name -> readable errors (``$.json.path: message``), empty when valid.
    :raises TransformError: an aspect name is not one of :data:`ASPECTS`.
    """
    report: dict[str, list[str]] = {}
    for aspect, payload in payloads.items():
        if aspect not in ASPECTS:
            raise TransformError(
                f"{aspect!r} is not a Battery Pass aspect ({', '.join(ASPECTS)})",
                pointer=f"/{aspect}",
            )
        errors = sorted(_validator(aspect).iter_errors(payload), key=lambda e: list(e.path))
        report[aspect] = [f"{e.json_path}: {e.message}" for e in errors]
    return report
