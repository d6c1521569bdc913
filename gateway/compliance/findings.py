"""China-side compliance findings for one national traceability record.

:func:`national_findings` checks a ``cn-trace`` record (plain JSON data, as
:func:`gateway.records.reader.read_record_file` returns it) against the national rules
of :mod:`gateway.compliance.rules`: every GB/T 34014 code in it, the pack-module-cell
hierarchy, echelon-use codes, reporting deadlines in Chinese working days, and the
white-list status of every firm a battery was handed to. :func:`national_report`
wraps the findings with a summary and the data versions used, the shape of the
``national`` block of a gap report.

It also checks the record against its own code and against physics
(:mod:`gateway.compliance.plausibility`). A finding is a dict::

    {"rule": "report-late", "severity": "error", "message": "...",
     "fields": ["/events/2/reported_on", "/events/2/date"],
     "source": "2018 Interim Provisions on traceability (...) Art. 10",
     "uncertain": false, "uncertainty": null, "details": {...}}

``fields`` are JSON pointers into the record; ``uncertain`` is true where the rule's
source is only probable or uncertain, or where the data behind the verdict (white-list,
holiday calendar, an unconfirmed code letter) is known to be incomplete, and
``uncertainty`` then says which. An uncertain finding of a breach rule is a warning and
makes the verdict ``"unknown"`` instead of ``false`` (:mod:`gateway.compliance.finding`).

The module stays whole although it is over 500 lines: the rules are methods of one
checker that walks the record once and shares what it decoded (each code is decoded
once per record, by the code rule, and reused by the hierarchy, replacement and echelon
rules); its sections follow the rule families of :data:`RULES`. A pack can hold
thousands of cells, so the walk names a code's place by its path and writes the JSON
pointer only when a finding is made, and a cell code with nothing to report is kept as
the decode of its shape (shared by the cells of a production day), not decoded alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gateway import jsonpointer
from gateway.codes.gbt34014 import (
    BatteryCode,
    check_hierarchy,
    decode,
    flags,
    serial_of,
    shapes_of,
)
from gateway.compliance.calendar import WorkingDays
from gateway.compliance.deadlines import ReportingDeadlines
from gateway.compliance.finding import (
    Finding,
    as_mapping,
    as_sequence,
    record_date,
    record_pointer,
    verdict,
)
from gateway.compliance.plausibility import Plausibility
from gateway.compliance.whitelist import Whitelist, normalise_name
from gateway.errors import InvalidBatteryCode

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_LEVELS = {"P": "pack", "M": "module", "C": "cell"}
_ECHELON_STATUSES = ("repurposed", "remanufactured")
# Event members holding a battery code.
_EVENT_CODES = ("removed_code", "fitted_code", "new_code")


#: The platform's dates are China Standard Time.
CST = dt.timezone(dt.timedelta(hours=8), "CST")


def _holdings(completeness: Mapping[str, Any]) -> str:
    """How much of the white-list a table holds, in words: batches and firms held, and
    the firms known to be listed."""
    batches = completeness["batches"]
    held = [str(b["batch"]) for b in batches if b["present"]]
    text = f"holds batch{'es' if len(held) != 1 else ''} {', '.join(held) or 'none'}"
    if batches:
        text += f" of {len(batches)} announced"
    text += f", {completeness['listed']} firm{'s' if completeness['listed'] != 1 else ''}"
    if completeness["announced"]:
        text += f" of at least {completeness['announced']} listed"
    return text


def today_in_china() -> dt.date:
    """Today's date in China Standard Time, the day dates in a record are judged on."""
    return dt.datetime.now(CST).date()


def national_findings(
    record: Mapping[str, Any],
    *,
    whitelist: Whitelist | None = None,
    calendar: WorkingDays | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Check a national record against the China-side rules.

    :param record: a ``cn-trace`` record as plain JSON data.
    :param whitelist: the white-list to check hand-overs against; default: the shipped
        one (an instance should pass ``Whitelist.for_home(settings.home)``).
    :param calendar: the working-day calendar; default: the shipped one.
    :param today: the day dates are judged on (a later date is in the future); default:
        today in China Standard Time.
    :returns: findings as dicts (see the module docstring), errors first, then
        warnings, then info; within a severity in record order.
    """
    checker = _Checker(
        record,
        whitelist or Whitelist.load(),
        calendar or WorkingDays.load(),
        today or today_in_china(),
    )
    found = [f.as_dict() for f in checker.run()]
    found.sort(key=lambda f: _SEVERITY_ORDER[f["severity"]])
    return found


def national_report(
    record: Mapping[str, Any],
    *,
    whitelist: Whitelist | None = None,
    calendar: WorkingDays | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The ``national`` block of a gap report: findings, counts, data used.

    :param record: a ``cn-trace`` record as plain JSON data.
    :param whitelist: see :func:`national_findings`.
    :param calendar: see :func:`national_findings`.
    :param today: see :func:`national_findings`.
    :returns: ``{"findings": [...], "summary": {"error": n, "warning": n, "info": n,
        "uncertain": n, "compliant": true | false | "unknown", "unknown_because": [...]},
        "data": {"whitelist": ..., "calendar_years": [...]}}``. ``compliant`` is false
        when a certain finding breaks a rule (an error), ``"unknown"`` when only
        uncertain findings of breach rules exist (``unknown_because`` says why each is
        uncertain), true otherwise.
    """
    whitelist = whitelist or Whitelist.load()
    calendar = calendar or WorkingDays.load()
    findings = national_findings(record, whitelist=whitelist, calendar=calendar, today=today)
    summary: dict[str, Any] = {
        severity: sum(f["severity"] == severity for f in findings) for severity in _SEVERITY_ORDER
    }
    summary["uncertain"] = sum(f["uncertain"] for f in findings)
    summary["compliant"], summary["unknown_because"] = verdict(findings)
    return {
        "findings": findings,
        "summary": summary,
        "data": {
            "whitelist": whitelist.completeness(),
            "calendar_years": sorted(calendar.years),
        },
    }


#: A member's path in the record: its reference tokens, outermost first.
_Place = tuple[str | int, ...]


class _Checker:
    def __init__(
        self,
        record: Mapping[str, Any],
        whitelist: Whitelist,
        calendar: WorkingDays,
        today: dt.date,
    ) -> None:
        self.record = record
        self.today = today
        self.battery = as_mapping(record.get("battery"))
        self.events = [as_mapping(e) for e in as_sequence(record.get("events"))]
        self.whitelist = whitelist
        self.calendar = calendar
        #: what the code rule decoded, by place and by code
        self.decoded: dict[_Place, BatteryCode] = {}
        self.by_code: dict[str, BatteryCode] = {}
        #: cell codes with nothing to report, by code: the decode of their shape (which
        #: is all the hierarchy rules read)
        self.cell_shapes: dict[str, BatteryCode] = {}
        self._echelon_places = self.echelon_codes()

    def run(self) -> Iterator[Finding]:
        yield from self.codes()
        yield from self.manufacturer()
        yield from self.hierarchy()
        yield from self.replacements()
        yield from self.echelon()
        yield from self.deadlines()
        yield from self.handovers()
        top = self.decoded.get(("battery", "code"))
        yield from Plausibility(self.record, top, self.today).run()

    # -- codes ---------------------------------------------------------------------

    def codes(self) -> Iterator[Finding]:
        """Findings of every code, in record order."""
        battery = self.battery
        yield from self.code(("battery", "code"), battery.get("code"))
        if battery.get("original_code") is not None:
            yield from self.code(("battery", "original_code"), battery["original_code"])
        for i, module in enumerate(as_sequence(battery.get("modules"))):
            module = as_mapping(module)
            yield from self.code(("battery", "modules", i, "code"), module.get("code"))
            yield from self.cell_codes(
                ("battery", "modules", i, "cells"), as_sequence(module.get("cells"))
            )
        yield from self.cell_codes(("battery", "cells"), as_sequence(battery.get("cells")))
        for i, event in enumerate(self.events):
            for name in _EVENT_CODES:
                if event.get(name) is not None:
                    yield from self.code(("events", i, name), event[name])

    def cell_codes(self, base: _Place, cells: Sequence[Any]) -> Iterator[Finding]:
        """Findings of a list of cell codes.

        A cell code is never an echelon product's own code, so :meth:`code` reports
        nothing for one whose shape decodes without problems or ambiguities, is not
        dated after today and whose serial is not zero: such a cell is only noted with
        its shape for the hierarchy rules, and every other takes :meth:`code`.
        """
        today = self.today
        shapes = self.cell_shapes
        quiet: BatteryCode | None = None  # the last shape found to have nothing to report
        for j, (cell, shape) in enumerate(zip(cells, shapes_of(cells), strict=True)):
            if (
                shape is not None
                and (
                    shape is quiet
                    or (
                        not (shape.problems or shape.ambiguities)
                        and (shape.production_date is None or shape.production_date <= today)
                    )
                )
                and serial_of(cell) != "0000000"
            ):
                quiet = shapes[cell] = shape
                continue
            yield from self.code((*base, j), cell)

    def code(self, place: _Place, code: Any) -> Iterator[Finding]:
        """Findings of the code at ``place``; its decode is kept for the later rules."""
        if code is None:
            pointer = record_pointer(*place)
            yield Finding("code-invalid", f"{pointer}: battery code is missing", (pointer,))
            return
        decoded = self.by_code.get(code) if isinstance(code, str) else None
        if decoded is None:
            try:
                decoded = decode(code)
            except InvalidBatteryCode as exc:
                pointer = record_pointer(*place)
                yield Finding(
                    "code-invalid",
                    f"{pointer}: {exc.detail}",
                    (pointer,),
                    details={
                        "code": code if isinstance(code, str) else None,
                        "problems": exc.extensions.get("errors", []),
                    },
                )
                return
            self.by_code[code] = decoded
        self.decoded[place] = decoded
        yield from self.code_flags(place, decoded)
        if not (decoded.problems or decoded.ambiguities):
            return
        pointer = record_pointer(*place)
        if decoded.problems:
            reasons = "; ".join(
                f"position {p.position} ({p.segment}): {p.reason}" for p in decoded.problems
            )
            yield Finding(
                "code-invalid",
                f"{pointer}: battery code {code}: {reasons}",
                (pointer,),
                details={"code": code, "problems": [p.as_dict() for p in decoded.problems]},
            )
        if decoded.ambiguities:
            reasons = "; ".join(a.reason for a in decoded.ambiguities)
            yield Finding(
                "code-ambiguous",
                f"{pointer}: battery code {code}: {reasons}",
                (pointer,),
                details={
                    "code": code,
                    "ambiguities": [a.as_dict() for a in decoded.ambiguities],
                },
            )

    def echelon_codes(self) -> set[_Place]:
        """The places of the own codes of echelon-use products: battery.code of a
        repurposed or remanufactured product (or one that keeps an original code), and
        the new code an echelon_use event gives."""
        places: set[_Place] = set()
        battery = self.battery
        if battery.get("status") in _ECHELON_STATUSES or battery.get("original_code"):
            places.add(("battery", "code"))
        for i, event in enumerate(self.events):
            if event.get("type") != "echelon_use":
                continue
            new_code = event.get("new_code")
            if new_code is None:
                places.add(("battery", "code"))  # the record is the new product's
            elif new_code != battery.get("code"):  # else flagged once, at battery.code
                places.add(("events", i, "new_code"))
        return places

    def code_flags(self, place: _Place, decoded: BatteryCode) -> Iterator[Finding]:
        echelon = place in self._echelon_places
        if (
            decoded.serial_number != "0000000"
            and not echelon
            and (decoded.production_date is None or decoded.production_date <= self.today)
        ):
            return  # the common case, decided without building anything
        rules = {
            "future-date": "date-future",
            "serial-zero": "code-serial-zero",
            "standard-form-on-echelon": "echelon-code-form",
        }
        for flag in flags(decoded, today=self.today, echelon=echelon):
            pointer = record_pointer(*place)
            yield Finding(
                rules[flag.flag],
                f"{pointer}: battery code {decoded.code}: {flag.reason}",
                (pointer,),
                details={"code": decoded.code, "flag": flag.as_dict()},
            )

    def manufacturer(self) -> Iterator[Finding]:
        maker = as_mapping(self.record.get("manufacturer")).get("code")
        code = self.battery.get("code")
        if isinstance(maker, str) and isinstance(code, str) and code[:3] != maker:
            yield Finding(
                "manufacturer-code-mismatch",
                f"/manufacturer/code {maker} differs from {code[:3]}, the manufacturer code in "
                "positions 1-3 of battery.code",
                (record_pointer("manufacturer", "code"), record_pointer("battery", "code")),
            )

    # -- hierarchy -----------------------------------------------------------------

    def hierarchy(self) -> Iterator[Finding]:
        top_pointer = record_pointer("battery", "code")
        top = self.decoded.get(("battery", "code"))
        modules = [as_mapping(m) for m in as_sequence(self.battery.get("modules"))]
        cells = as_sequence(self.battery.get("cells"))
        if top is None:
            return  # an invalid top code is already reported; levels cannot be judged
        level = top.product_type
        if modules and level != "P":
            yield Finding(
                "hierarchy-level",
                f"battery.code {top.code} is a {_LEVELS[level]} code (position 4 "
                f"{level!r}) but lists modules; only a pack (P) holds modules",
                (top_pointer, record_pointer("battery", "modules")),
                details={"code": top.code, "product_type": level},
            )
        if cells and level == "C":
            yield Finding(
                "hierarchy-level",
                f"battery.code {top.code} is a cell code (position 4 'C') but lists cells",
                (top_pointer, record_pointer("battery", "cells")),
                details={"code": top.code, "product_type": level},
            )
        if modules and cells and level == "P":
            yield Finding(
                "hierarchy-mixed",
                "the pack lists cells directly (battery.cells) and under modules; each cell "
                "should correspond to exactly one parent",
                (record_pointer("battery", "modules"), record_pointer("battery", "cells")),
            )
        if level == "P" and modules:
            yield from self.pack_modules(top, modules)
        for j, cell in enumerate(cells):
            yield from self.child(top, ("battery", "cells", j), cell, "C", "cell")

    def pack_modules(
        self, pack: BatteryCode, modules: Sequence[Mapping[str, Any]]
    ) -> Iterator[Finding]:
        # GB/T 34014 §4 rules live in check_hierarchy; the pointers of its findings (into
        # {"pack", "modules": {code: cells}}) are translated into record pointers.
        tree: dict[str, Sequence[str]] = {}
        # module code -> its index in the record, and the record positions of its cells
        # when some were left out (not strings: reported by the code rule)
        where: dict[str, tuple[int, list[int] | None]] = {}
        for i, module in enumerate(modules):
            code = module.get("code")
            if not isinstance(code, str):
                continue
            if code in tree:
                m_pointer = record_pointer("battery", "modules", i, "code")
                yield Finding(
                    "hierarchy-duplicate",
                    f"{m_pointer}: module code {code} is listed twice",
                    (m_pointer,),
                    details={"code": code},
                )
                continue
            listed = as_sequence(module.get("cells"))
            cells = [c for c in listed if isinstance(c, str)]
            positions = None
            if len(cells) != len(listed):
                positions = [j for j, c in enumerate(listed) if isinstance(c, str)]
            tree[code] = cells
            where[code] = (i, positions)

        def hierarchy_pointer(pointer: str) -> str:
            tokens = jsonpointer.split(pointer)
            if tokens[:1] != ["modules"] or len(tokens) < 2 or tokens[1] not in where:
                return record_pointer("battery", "code") if tokens == ["pack"] else pointer
            i, positions = where[tokens[1]]
            if len(tokens) == 2:
                return record_pointer("battery", "modules", i, "code")
            j = int(tokens[2])
            return record_pointer(
                "battery", "modules", i, "cells", positions[j] if positions else j
            )

        rules = {
            "level": "hierarchy-level",
            "duplicate": "hierarchy-duplicate",
            "battery-type": "hierarchy-battery-type",
            "production-order": "hierarchy-production-order",
            "empty-module": "hierarchy-empty-module",
        }
        known = {**self.cell_shapes, **self.by_code}
        for found in check_hierarchy(pack.code, tree, decoded=known):
            rule = rules.get(found["rule"])
            if rule is None:
                continue  # invalid codes are reported once, by the code check
            pointer = hierarchy_pointer(found["pointer"])
            yield Finding(
                rule,
                f"{pointer}: {found['code']}: {found['message']}",
                (pointer,),
                details={"code": found["code"]},
            )

    def child(
        self, parent: BatteryCode, place: _Place, code: Any, want: str, name: str
    ) -> Iterator[Finding]:
        # The code's decode, or for a cell with nothing to report the decode of its
        # shape: only its types and date are read, the code itself is ``code``.
        decoded = self.decoded.get(place)
        if decoded is None and isinstance(code, str):
            decoded = self.cell_shapes.get(code)
        if decoded is None:
            return
        wrong_date = bool(
            decoded.production_date
            and parent.production_date
            and decoded.production_date > parent.production_date
        )
        if not (
            decoded.product_type != want
            or decoded.battery_type != parent.battery_type
            or wrong_date
        ):
            return
        pointer = record_pointer(*place)
        if decoded.product_type != want:
            yield Finding(
                "hierarchy-level",
                f"{pointer}: {name} code {code} has product type "
                f"{decoded.product_type!r}, expected {want!r}",
                (pointer,),
                details={"code": code, "product_type": decoded.product_type},
            )
        if decoded.battery_type != parent.battery_type:
            yield Finding(
                "hierarchy-battery-type",
                f"{pointer}: {code}: battery type {decoded.battery_type!r} differs "
                f"from parent's {parent.battery_type!r}",
                (pointer,),
                details={"code": code},
            )
        if wrong_date:
            yield Finding(
                "hierarchy-production-order",
                f"{pointer}: {code}: produced {decoded.production_date} after its "
                f"parent ({parent.production_date})",
                (pointer,),
                details={"code": code},
            )

    def replacements(self) -> Iterator[Finding]:
        for i in range(len(self.events)):
            removed = self.decoded.get(("events", i, "removed_code"))
            fitted = self.decoded.get(("events", i, "fitted_code"))
            if removed and fitted and removed.product_type != fitted.product_type:
                yield Finding(
                    "replacement-level-mismatch",
                    f"/events/{i}: removes a {_LEVELS[removed.product_type]} "
                    f"({removed.code}) but fits a {_LEVELS[fitted.product_type]} "
                    f"({fitted.code})",
                    (
                        record_pointer("events", i, "removed_code"),
                        record_pointer("events", i, "fitted_code"),
                    ),
                )

    # -- echelon use ---------------------------------------------------------------

    def echelon(self) -> Iterator[Finding]:
        if self.battery.get("original_code") is not None:
            return  # present; its validity is checked with the other codes
        code = self.battery.get("code")
        reasons: list[tuple[str, str]] = []
        status = self.battery.get("status")
        if status in _ECHELON_STATUSES:
            reasons.append((record_pointer("battery", "status"), f"status is {status}"))
        top = self.decoded.get(("battery", "code"))
        if top is not None and top.kind == "echelon":
            reasons.append(
                (
                    record_pointer("battery", "code"),
                    "battery.code is in the 19-character echelon-use form",
                )
            )
        for i, event in enumerate(self.events):
            if event.get("type") != "echelon_use":
                continue
            new_code = event.get("new_code")
            if new_code is None:
                reasons.append(
                    (
                        record_pointer("events", i),
                        f"echelon_use event /events/{i} gives no new_code, so "
                        "battery.code is the new product's code",
                    )
                )
            elif new_code == code:
                reasons.append(
                    (
                        record_pointer("events", i, "new_code"),
                        f"echelon_use event /events/{i} re-coded the product as battery.code",
                    )
                )
        if reasons:
            yield Finding(
                "echelon-original-code-missing",
                "the record describes an echelon-use product ("
                + "; ".join(r for _, r in reasons)
                + ") but battery.original_code is missing; GB/T 34014 requires the original "
                "code to be kept",
                (record_pointer("battery", "original_code"), *(p for p, _ in reasons)),
            )

    def deadlines(self) -> Iterator[Finding]:
        yield from ReportingDeadlines(self.events, self.battery, self.calendar).run()

    # -- white-list ----------------------------------------------------------------

    def parties(self) -> Iterator[tuple[int, str, Mapping[str, Any] | None, str | None]]:
        """(event index, member, party, activity) of every hand-over to a firm."""
        for i, event in enumerate(self.events):
            kind = event.get("type")
            if kind == "handover":
                recipient = event.get("recipient")
                yield (
                    i,
                    "recipient",
                    as_mapping(recipient) if recipient is not None else None,
                    (as_mapping(recipient).get("activity")),
                )
            elif kind == "dismantling" and event.get("destination") is not None:
                destination = as_mapping(event["destination"])
                yield i, "destination", destination, destination.get("activity")
            elif kind in ("echelon_use", "recycling"):
                party = as_mapping(event.get("party"))
                if party.get("licence_no"):
                    yield i, "party", party, kind

    def handovers(self) -> Iterator[Finding]:
        completeness = self.whitelist.completeness()
        for i, member, party, activity in self.parties():
            base = record_pointer("events", i, member)
            happened = record_date(self.events[i].get("date"))
            if party is None:
                yield Finding(
                    "whitelist-recipient-missing",
                    f"/events/{i}: hand-over names no recipient",
                    (base,),
                )
                continue
            if happened is None:
                continue  # reported by the deadline check
            if activity not in ("echelon_use", "recycling"):
                activity = None
            licence, name = party.get("licence_no"), party.get("name")
            verdict = None
            if isinstance(licence, str) and licence:
                verdict = self.whitelist.check(licence, happened, activity)
            if (verdict is None or verdict.status == "not_listed") and isinstance(name, str):
                verdict = self.whitelist.check(name, happened, activity)
            if verdict is None:
                yield Finding(
                    "whitelist-recipient-missing",
                    f"{base}: names neither a licence_no nor a name",
                    (base,),
                )
                continue
            who = name or licence
            wanted = activity.replace("_", " ") if activity else "echelon use or recycling"
            fields = (base, record_pointer("events", i, "date"))
            listing = verdict.listing
            details: dict[str, Any] = {
                "party": who,
                "activity": activity,
                "date": happened.isoformat(),
                "listing": listing.as_dict() if listing else None,
            }
            if verdict.status == "not_listed":
                held = _holdings(completeness)
                note = (
                    ""
                    if completeness["complete"]
                    else f"; the white-list table is incomplete ({held}), so this is not "
                    "known until the missing batches are added"
                )
                details["whitelist"] = {
                    k: completeness[k] for k in ("complete", "listed", "announced")
                }
                yield Finding(
                    "whitelist-not-listed",
                    f"{base}: {who} is not on the white-list for {wanted} on {happened}{note}",
                    fields,
                    details=details,
                    uncertainty=None
                    if completeness["complete"]
                    else f"the white-list table is incomplete: it {held}",
                )
                continue
            assert listing is not None
            if verdict.status == "other_activity":
                yield Finding(
                    "whitelist-other-activity",
                    f"{base}: {who} is listed ({listing.licence_no}) for "
                    f"{listing.type.replace('_', ' ')}, not {wanted}",
                    fields,
                    details=details,
                )
            elif verdict.status == "not_yet_listed":
                yield Finding(
                    "whitelist-not-yet-listed",
                    f"{base}: {who} was listed only on {listing.announced_on} "
                    f"({listing.announcement_no}), after the hand-over on "
                    f"{happened}",
                    fields,
                    details=details,
                )
            elif verdict.status == "removed":
                yield Finding(
                    "whitelist-removed",
                    f"{base}: {who} was removed from the white-list on "
                    f"{listing.removed_on}, before the hand-over on {happened}",
                    fields,
                    details=details,
                )
            elif verdict.status == "activity_unknown":
                yield Finding(
                    "whitelist-activity-unconfirmed",
                    f"{base}: {who} is listed ({listing.licence_no}), but the table "
                    f"does not record whether for {wanted}",
                    fields,
                    details=details,
                )
            yield from self.identity(base, party, listing, verdict.matched_by)

    def identity(
        self, base: str, party: Mapping[str, Any], listing: Any, matched_by: str | None
    ) -> Iterator[Finding]:
        licence, name = party.get("licence_no"), party.get("name")
        if (
            matched_by == "licence_no"
            and isinstance(name, str)
            and (normalise_name(name) != normalise_name(listing.name))
        ):
            yield Finding(
                "whitelist-identity-mismatch",
                f"{base}: licence_no {licence} is the listing of {listing.name}, "
                f"but the recipient is named {name}",
                (base + "/name",),
            )
        elif matched_by == "name" and isinstance(licence, str) and licence:
            yield Finding(
                "whitelist-identity-mismatch",
                f"{base}: {name} is listed as {listing.licence_no}, but the record "
                f"gives licence_no {licence}",
                (base + "/licence_no",),
            )
