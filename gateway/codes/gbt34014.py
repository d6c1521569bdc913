"""GB/T 34014-2017 traction-battery codes: decode, validate, check a pack hierarchy.

A standard code has 24 characters in seven segments (GB/T 34014-2017, code structure):
manufacturer (3) | product type (1) | battery type (1) | specification (2) |
traceability (7) | production date Y/M/D (3) | serial (7). No check character exists.

Echelon-use (second-life) products are re-coded under the same rules without the
traceability segment ("无扩展结构1"). Two shapes reach the gateway:

* a plain 24-character code given to the echelon product: decoded as ``standard``;
* the 19-character form seen in the Catena-X model (date and serial right after the
  specification code, then ``R`` + P/M/C): decoded as ``echelon``, with an ambiguity
  saying the suffix's meaning is unconfirmed.

Letters whose meaning is not solid (battery types other than B/E/Z, year letters after
H, day letters) come from :mod:`gateway.codes.tables`; a decode never guesses silently:
each such letter adds an entry to ``ambiguities``.

A code whose characters are all allowed but whose date does not exist (2027-09-31)
still decodes, with ``valid_date`` false and an entry in ``problems``; pass
``strict=True`` to refuse it instead.

:func:`flags` says what a well-formed code claims that is unlikely of a real product: a
production date after today, the serial ``0000000``, a full 24-character code on an
echelon-use product. They depend on the day and on the product, so they are not part of
the decode (which is the same for every caller and cached by shape).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from gateway import jsonpointer
from gateway.codes.tables import CodeTables, load_tables
from gateway.errors import InvalidBatteryCode

STANDARD_LENGTH = 24
ECHELON_LENGTH = 19
# Longer input is refused before any work, and never echoed back in full.
_MAX_ECHO = 40

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DIGITS = frozenset("0123456789")
_ECHELON_MARK = frozenset("R")


@dataclass(frozen=True)
class _Field:
    name: str
    start: int  # 1-based, inclusive
    end: int
    label: str
    segment: str
    charset: frozenset[str] | None = None
    table: str | None = None


# GB/T 34014-2017 code structure; the date segment is split into its three characters
# because each has its own alphabet.
_STANDARD = (
    _Field("manufacturer_code", 1, 3, "manufacturer code", "manufacturer_code", _ALNUM),
    _Field("product_type", 4, 4, "product type", "product_type", table="product_type"),
    _Field("battery_type", 5, 5, "battery type", "battery_type", table="battery_type"),
    _Field("spec_code", 6, 7, "specification code", "spec_code", _ALNUM),
    _Field("traceability_code", 8, 14, "traceability code", "traceability_code", _ALNUM),
    _Field("year", 15, 15, "year character", "production_date_code", table="year"),
    _Field("month", 16, 16, "month character", "production_date_code", table="month"),
    _Field("day", 17, 17, "day character", "production_date_code", table="day"),
    _Field("serial_number", 18, 24, "serial number", "serial_number", _DIGITS),
)

# The 19-character echelon-use form of the Catena-X TractionBatteryCode model [CXM].
_ECHELON = (
    _Field("manufacturer_code", 1, 3, "manufacturer code", "manufacturer_code", _ALNUM),
    _Field("product_type", 4, 4, "product type", "product_type", table="product_type"),
    _Field("battery_type", 5, 5, "battery type", "battery_type", table="battery_type"),
    _Field("spec_code", 6, 7, "specification code", "spec_code", _ALNUM),
    _Field("year", 8, 8, "year character", "production_date_code", table="year"),
    _Field("month", 9, 9, "month character", "production_date_code", table="month"),
    _Field("day", 10, 10, "day character", "production_date_code", table="day"),
    _Field("serial_number", 11, 17, "serial number", "serial_number", _DIGITS),
    _Field("echelon_mark", 18, 18, "echelon-use marker", "echelon_suffix", _ECHELON_MARK),
    _Field("echelon_level", 19, 19, "echelon-use level", "echelon_suffix", table="product_type"),
)

_LAYOUTS = {STANDARD_LENGTH: ("standard", _STANDARD), ECHELON_LENGTH: ("echelon", _ECHELON)}


@dataclass(frozen=True)
class Ambiguity:
    """A character the decode read from a table entry that is not confirmed."""

    segment: str
    position: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment, "position": self.position, "reason": self.reason}


@dataclass(frozen=True)
class CodeProblem:
    """A rule the code breaks; ``position`` is 1-based.

    ``rule`` is one of ``type``, ``length``, ``charset``, ``lowercase``, ``calendar``.
    """

    position: int
    segment: str
    reason: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "segment": self.segment,
            "reason": self.reason,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class BatteryCode:
    """A decoded GB/T 34014 code.

    ``traceability_code`` is None for the 19-character echelon form, which has none;
    ``echelon_suffix`` is None for standard codes. ``production_date`` is None when
    year/month/day do not form a calendar date.
    """

    code: str
    kind: str
    manufacturer_code: str
    product_type: str
    product_type_name: str
    product_type_name_zh: str
    battery_type: str
    battery_type_name: str
    battery_type_name_zh: str
    battery_chemistry: str
    spec_code: str
    traceability_code: str | None
    production_date_code: str
    year: int
    month: int
    day: int
    serial_number: str
    production_date: dt.date | None
    echelon_suffix: str | None
    tables_version: str
    ambiguities: tuple[Ambiguity, ...] = field(default=())
    problems: tuple[CodeProblem, ...] = field(default=())

    @property
    def valid_date(self) -> bool:
        return self.production_date is not None

    def as_dict(self) -> dict[str, Any]:
        """The decode as JSON-ready data (the keys of the reference fixtures and more)."""
        return {
            "code": self.code,
            "kind": self.kind,
            "length": len(self.code),
            "valid_syntax": True,
            "manufacturer_code": self.manufacturer_code,
            "product_type": self.product_type,
            "product_type_name": self.product_type_name,
            "product_type_name_zh": self.product_type_name_zh,
            "battery_type": self.battery_type,
            "battery_type_name": self.battery_type_name,
            "battery_type_name_zh": self.battery_type_name_zh,
            "battery_chemistry": self.battery_chemistry,
            "spec_code": self.spec_code,
            "traceability_code": self.traceability_code,
            "production_date_code": self.production_date_code,
            "year": self.year,
            "month": self.month,
            "day": self.day,
            "serial_number": self.serial_number,
            "production_date": (self.production_date.isoformat() if self.production_date else None),
            "valid_date": self.valid_date,
            "echelon_suffix": self.echelon_suffix,
            "tables_version": self.tables_version,
            "ambiguities": [a.as_dict() for a in self.ambiguities],
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class CodeFlag:
    """A claim of a well-formed code that is unlikely of a real product.

    ``flag`` is one of ``future-date``, ``serial-zero``, ``standard-form-on-echelon``;
    ``position`` is 1-based.
    """

    flag: str
    position: int
    segment: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "position": self.position,
            "segment": self.segment,
            "reason": self.reason,
        }


#: The serial number counts the products of one production day from 1 (GB/T 34014
#: positions 18-24, 1-9 999 999): a zero serial is a placeholder, not a product.
_ZERO_SERIAL = "0000000"


def flags(decoded: BatteryCode, *, today: dt.date, echelon: bool = False) -> tuple[CodeFlag, ...]:
    """What a decoded code claims that is unlikely of a real product.

    :param decoded: a decode from :func:`decode`.
    :param today: the day the code is judged on (China Standard Time for the platform).
    :param echelon: the code is the own code of an echelon-use (repurposed,
        remanufactured) product, which is re-coded without the traceability segment.
    :returns: the flags, in position order; empty when nothing is unlikely.
    """
    found: list[CodeFlag] = []
    standard = decoded.kind == "standard"
    if echelon and standard:
        found.append(
            CodeFlag(
                "standard-form-on-echelon",
                8,
                "traceability_code",
                "a full 24-character code on an echelon-use product; echelon re-coding "
                "omits the 7-character traceability segment",
            )
        )
    if decoded.production_date is not None and decoded.production_date > today:
        found.append(
            CodeFlag(
                "future-date",
                15 if standard else 8,
                "production_date_code",
                f"production date {decoded.production_date} is after {today}",
            )
        )
    if decoded.serial_number == _ZERO_SERIAL:
        found.append(
            CodeFlag(
                "serial-zero",
                18 if standard else 11,
                "serial_number",
                "serial number 0000000; serials count from 1",
            )
        )
    return tuple(found)


def _shown(code: str) -> str:
    return repr(code) if len(code) <= _MAX_ECHO else f"{code[:_MAX_ECHO]!r}..."


def _refuse(code: str, problems: Sequence[CodeProblem]) -> InvalidBatteryCode:
    first = problems[0]
    detail = f"battery code {_shown(code)}: position {first.position} ({first.segment}): "
    detail += first.reason
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more problem(s), see errors)"
    return InvalidBatteryCode(detail, errors=[p.as_dict() for p in problems])


def _check_field(
    f: _Field, text: str, allowed: Mapping[str, object] | frozenset[str], tables: CodeTables
) -> CodeProblem | None:
    for offset, char in enumerate(text):
        if char in allowed:
            continue
        position = f.start + offset
        if f.table:
            accepted = "/".join(tables.letters(f.table))
            if f.table in ("year", "day"):
                accepted = "the table alphabet " + tables.letters(f.table)
        elif allowed is _DIGITS:
            accepted = "0-9"
        elif allowed is _ECHELON_MARK:
            accepted = "R"
        else:
            accepted = "A-Z/0-9"
        if char.islower() and char.upper() in allowed:
            reason = f"{f.label} {char!r} is lowercase; GB/T 34014 codes are upper-case"
            rule = "lowercase"
        else:
            reason = f"{f.label} {char!r} not in {accepted}"
            rule = "charset"
        return CodeProblem(position, f.segment, reason, rule)
    return None


def decode(code: str, tables: CodeTables | None = None, *, strict: bool = False) -> BatteryCode:
    """Decode a GB/T 34014 code (24 characters, or the 19-character echelon-use form).

    With the shipped tables, a code whose traceability and serial segments are
    well-formed is decoded from the cached decode of its other characters, which the
    codes of a batch share (:func:`_decode_shaped`); nothing is kept per code, so memory
    stays flat however many records pass.

    :param code: the code exactly as read; no case folding or trimming is done.
    :param tables: letter tables to use; default: those shipped with the gateway.
    :param strict: also refuse a code whose production date is not a calendar date.
    :returns: the decoded code, with ``ambiguities`` for every letter read from an
        unconfirmed table entry and ``problems`` for an impossible date.
    :raises InvalidBatteryCode: the code breaks a rule; ``errors`` lists every problem
        as ``{position, segment, reason, rule}``.
    """
    if tables is None and isinstance(code, str):
        shaped = _decode_shaped(code)
        if shaped is not None and not (strict and shaped.problems):
            return shaped
    return _decode(code, tables or load_tables(), strict)


#: The segments that differ from code to code of one product batch, as checked by
#: ``_decode`` (traceability A-Z/0-9, serial 0-9); everything else is the code's shape.
_VARIABLE = {
    STANDARD_LENGTH: re.compile(r".{7}[A-Z0-9]{7}.{3}[0-9]{7}", re.DOTALL),
    ECHELON_LENGTH: re.compile(r".{10}[0-9]{7}.{2}", re.DOTALL),
}


def shape_of(code: str) -> BatteryCode | None:
    """The decode of the shape ``code`` shares with its batch, or None when the code's
    variable segments are not well-formed (then :func:`decode` says why).

    Every member but ``code``, ``traceability_code`` and ``serial_number`` is the one
    :func:`decode` gives for ``code`` (product and battery type, production date,
    ambiguities, problems); those three are the shape's. Checks that read only the
    shared members (a pack's hierarchy, over thousands of cells) use it to build
    nothing per code.

    :param code: a code as read (any value; only strings have a shape).
    :returns: a shared decode, with the shipped tables.
    """
    if type(code) is not str:
        return None
    pattern = _VARIABLE.get(len(code))
    if pattern is None or pattern.fullmatch(code) is None:
        return None
    if len(code) == STANDARD_LENGTH:
        return _shape(f"{code[:7]}0000000{code[14:17]}0000000")
    return _shape(f"{code[:10]}0000000{code[17:]}")


def shapes_of(codes: Sequence[Any]) -> list[BatteryCode | None]:
    """:func:`shape_of` of every code of a list, in order.

    The cells of a module mostly share one shape (one product line and production day),
    so a 24-character code with the shape characters of the one before reuses its shape
    without building the shape's key again.
    """
    out: list[BatteryCode | None] = []
    well_formed = _VARIABLE[STANDARD_LENGTH].fullmatch
    last_head = last_date = ""
    last: BatteryCode | None = None
    for code in codes:
        if type(code) is str and len(code) == STANDARD_LENGTH and well_formed(code):
            head, date = code[:7], code[14:17]
            if head != last_head or date != last_date:
                last_head, last_date = head, date
                last = _shape(f"{head}0000000{date}0000000")
            out.append(last)
        else:
            out.append(shape_of(code))
    return out


def serial_of(code: str) -> str:
    """The serial number segment of a code of 24 or 19 characters."""
    return code[17:] if len(code) == STANDARD_LENGTH else code[10:17]


def _decode_shaped(code: str) -> BatteryCode | None:
    """The decode of ``code`` made from the decode of its shape, or None when its
    variable segments are not well-formed (then the full decode says why).

    Every field but ``code``, ``traceability_code`` and ``serial_number`` depends only
    on the shape: the tables, ambiguities and calendar problems read the manufacturer,
    type, specification, date and echelon characters alone.
    """
    shape = shape_of(code)
    if shape is None:
        return None
    standard = len(code) == STANDARD_LENGTH
    decoded = object.__new__(BatteryCode)
    # One merged dict rather than two updates: this runs once per code of a record.
    object.__setattr__(
        decoded,
        "__dict__",
        {
            **vars(shape),
            "code": code,
            "traceability_code": code[7:14] if standard else None,
            "serial_number": serial_of(code),
        },
    )
    return decoded


@lru_cache(maxsize=1024)
def _shape(code: str) -> BatteryCode | None:
    # Shapes are few (one per product line and production day), so this stays small.
    try:
        return _decode(code, load_tables(), False)
    except InvalidBatteryCode:
        return None


def _decode(code: str, tables: CodeTables, strict: bool) -> BatteryCode:
    if not isinstance(code, str):
        raise InvalidBatteryCode(
            "battery code must be a string",
            errors=[{"position": 0, "segment": "code", "reason": "not a string", "rule": "type"}],
        )
    layout = _LAYOUTS.get(len(code))
    if layout is None:
        # Point at the first missing or first surplus character.
        position = min(len(code), STANDARD_LENGTH) + 1
        reason = (
            f"code has {len(code)} characters; GB/T 34014 codes have {STANDARD_LENGTH} "
            f"(or {ECHELON_LENGTH} in the echelon-use form)"
        )
        raise _refuse(code, [CodeProblem(position, "code", reason, "length")])
    kind, fields = layout

    problems: list[CodeProblem] = []
    parts: dict[str, str] = {}
    for f in fields:
        text = code[f.start - 1 : f.end]
        parts[f.name] = text
        allowed = tables.tables[f.table] if f.table else f.charset
        assert allowed is not None
        problem = _check_field(f, text, allowed, tables)
        if problem:
            problems.append(problem)
    if problems:
        raise _refuse(code, problems)

    positions = {f.name: f.start for f in fields}
    ambiguities: list[Ambiguity] = []
    rows = {}
    for f in fields:
        if not f.table:
            continue
        row = tables.lookup(f.table, parts[f.name])
        assert row is not None
        rows[f.name] = row
        if not row.solid and f.name != "echelon_level":
            note = tables.ambiguity_notes.get(f.table) or "meaning not confirmed"
            ambiguities.append(
                Ambiguity(
                    f.segment,
                    f.start,
                    f"{f.label} {row.letter!r} read as {row.value} "
                    f"(confidence {row.confidence}): {note}",
                )
            )

    echelon_suffix = None
    if kind == "echelon":
        echelon_suffix = parts["echelon_mark"] + parts["echelon_level"]
        ambiguities.append(
            Ambiguity(
                "echelon_suffix",
                positions["echelon_mark"],
                f"suffix {echelon_suffix!r}: "
                + (tables.ambiguity_notes.get("echelon_suffix") or "meaning not confirmed"),
            )
        )

    year, month, day = (int(rows[n].value) for n in ("year", "month", "day"))
    try:
        production_date: dt.date | None = dt.date(year, month, day)
    except ValueError:
        production_date = None
        problems.append(
            CodeProblem(
                positions["day"],
                "production_date_code",
                f"{year:04d}-{month:02d}-{day:02d} is not a calendar date",
                "calendar",
            )
        )
        if strict:
            raise _refuse(code, problems) from None

    product, battery = rows["product_type"], rows["battery_type"]
    date_start = positions["year"] - 1
    return BatteryCode(
        code=code,
        kind=kind,
        manufacturer_code=parts["manufacturer_code"],
        product_type=product.letter,
        product_type_name=str(product.value),
        product_type_name_zh=product.name_zh,
        battery_type=battery.letter,
        battery_type_name=tables.qualified_name(battery),
        battery_type_name_zh=battery.name_zh,
        battery_chemistry=str(battery.value),
        spec_code=parts["spec_code"],
        traceability_code=parts.get("traceability_code"),
        production_date_code=code[date_start : date_start + 3],
        year=year,
        month=month,
        day=day,
        serial_number=parts["serial_number"],
        production_date=production_date,
        echelon_suffix=echelon_suffix,
        tables_version=tables.version,
        ambiguities=tuple(ambiguities),
        problems=tuple(problems),
    )


#: Where a code sits in a hierarchy: (module code, cell index), ``(None, None)`` for the
#: pack; its JSON pointer is written only when a finding names it.
_Place = tuple[str | None, int | None]


def check_hierarchy(
    pack_code: str,
    modules: Mapping[str, Sequence[str]],
    tables: CodeTables | None = None,
    *,
    decoded: Mapping[str, BatteryCode] | None = None,
) -> list[dict[str, Any]]:
    """Check a pack -> module -> cell hierarchy (GB/T 34014-2017: the pack, module
    and cell codes must correspond).

    Errors: a code does not decode, sits at the wrong level (pack must be P, modules M,
    cells C) or appears twice. Warnings: a module or cell whose battery type differs
    from its parent's, or that was produced after its parent.

    :param pack_code: the pack's code.
    :param modules: module code -> the codes of its cells.
    :param tables: letter tables to use; default: those shipped with the gateway.
    :param decoded: codes the caller has already decoded (with the same tables), by
        code; the others are decoded here. Only the product type, battery type and
        production date of a decode are read, so the decode of a code's shape
        (:func:`shape_of`) will do.
    :returns: findings ``{severity, rule, code, pointer, message}``; empty when
        consistent. ``pointer`` is a JSON pointer into ``{"pack": ..., "modules": ...}``.
    """
    findings: list[dict[str, Any]] = []
    known = decoded or {}

    def pointer(place: _Place) -> str:
        module_code, index = place
        if module_code is None:
            return "/pack"
        m_pointer = jsonpointer.child("/modules", module_code)
        return m_pointer if index is None else f"{m_pointer}/{index}"

    def note(severity: str, rule: str, code: str, place: _Place, message: str) -> None:
        findings.append(
            {
                "severity": severity,
                "rule": rule,
                "code": code,
                "pointer": pointer(place),
                "message": message,
            }
        )

    def level(code: str, place: _Place, want: str, name: str) -> BatteryCode | None:
        found = known.get(code)
        if found is None and tables is None:
            found = shape_of(code)
        if found is None:
            try:
                found = decode(code, tables)
            except InvalidBatteryCode as exc:
                note("error", "invalid-code", code, place, exc.detail)
                return None
        if found.product_type != want:
            note(
                "error",
                "level",
                code,
                place,
                f"{name} code has product type {found.product_type!r}, expected {want!r}",
            )
        return found

    def consistent(code: str, child: BatteryCode, parent: BatteryCode, place: _Place) -> None:
        if child.battery_type != parent.battery_type:
            note(
                "warning",
                "battery-type",
                code,
                place,
                f"battery type {child.battery_type!r} differs from parent's "
                f"{parent.battery_type!r}",
            )
        if (
            child.production_date
            and parent.production_date
            and child.production_date > parent.production_date
        ):
            note(
                "warning",
                "production-order",
                code,
                place,
                f"produced {child.production_date} after its parent ({parent.production_date})",
            )

    seen: dict[str, _Place] = {}

    def once(code: str, place: _Place) -> None:
        if code in seen:
            note("error", "duplicate", code, place, f"code already listed at {pointer(seen[code])}")
        else:
            seen[code] = place

    top: _Place = (None, None)
    pack = level(pack_code, top, "P", "pack")
    once(pack_code, top)
    for module_code, cells in modules.items():
        m_place: _Place = (module_code, None)
        module = level(module_code, m_place, "M", "module")
        once(module_code, m_place)
        if module and pack:
            consistent(module_code, module, pack, m_place)
        if not cells:
            note("warning", "empty-module", module_code, m_place, "module lists no cells")
        for index, cell_code in enumerate(cells):
            # A pack holds thousands of cells: the common cell (known, a cell code, listed
            # once, consistent with its module) is passed here in one test; any other
            # takes the three checks below, which then note what is wrong.
            cell = known.get(cell_code)
            if (
                cell is not None
                and module is not None
                and cell.product_type == "C"
                and cell_code not in seen
                and cell.battery_type == module.battery_type
                and not (
                    cell.production_date
                    and module.production_date
                    and cell.production_date > module.production_date
                )
            ):
                seen[cell_code] = (module_code, index)
                continue
            c_place: _Place = (module_code, index)
            cell = level(cell_code, c_place, "C", "cell")
            once(cell_code, c_place)
            if cell and module:
                consistent(cell_code, cell, module, c_place)
    return findings
