"""Reporting deadlines: was each lifecycle event reported to the platform in time?

The 2018 Interim Provisions give each stage a deadline in Chinese working days, and bind
the party that reports it: the automaker for a vehicle sale (draft Art. 9), a repair
(Art. 10) or the collection outlet's hand-over (Art. 11); the ELV dismantler (Art. 13),
the echelon-use firm (Art. 14) and the recycler (Art. 15) for their own. The deadline of
an event is that of its reporting party, read from the record: a hand-over whose party
is the party of a dismantling, echelon-use or recycling event of the same record reports
in that role. A sale of a battery that goes into no vehicle has no known deadline. The
deadlines themselves are data in :mod:`gateway.compliance.rules`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gateway.compliance.calendar import WorkingDays
from gateway.compliance.finding import Finding, as_mapping, record_date, record_pointer
from gateway.compliance.rules import (
    DEADLINES,
    MEASURES_2026_IN_FORCE,
    NON_VEHICLE_SALE,
    ROLE_DEADLINES,
    VEHICLE_CATEGORIES,
    Deadline,
)
from gateway.compliance.whitelist import normalise_name

#: Event types whose party can be the one that later hands the battery over, and the
#: role that gives it.
_ROLE_OF_EVENT = {
    "dismantling": "dismantler",
    "echelon_use": "echelon_firm",
    "recycling": "recycler",
}


def party_keys(party: Mapping[str, Any]) -> list[str]:
    """How a party is recognised across events: its USCC, and its normalised name."""
    keys = []
    if isinstance(party.get("uscc"), str) and party["uscc"]:
        keys.append("uscc:" + party["uscc"])
    if isinstance(party.get("name"), str) and party["name"].strip():
        keys.append("name:" + normalise_name(party["name"]))
    return keys


class ReportingDeadlines:
    """The deadline checks of one record's events.

    :param events: the record's events (mappings; anything else was left out).
    :param battery: the record's ``battery`` member.
    :param calendar: the working-day calendar.
    """

    def __init__(
        self,
        events: Sequence[Mapping[str, Any]],
        battery: Mapping[str, Any],
        calendar: WorkingDays,
    ) -> None:
        self.events = events
        self.battery = battery
        self.calendar = calendar

    def roles(self) -> dict[str, str]:
        """The role of each party (by USCC and by normalised name) that the record
        shows dismantling, re-using or recycling the battery."""
        roles: dict[str, str] = {}
        for event in self.events:
            kind = event.get("type")
            role = _ROLE_OF_EVENT.get(kind) if isinstance(kind, str) else None
            if role is None:
                continue
            for key in party_keys(as_mapping(event.get("party"))):
                roles.setdefault(key, role)
        return roles

    def deadline_for(self, event: Mapping[str, Any], roles: Mapping[str, str]) -> Deadline | None:
        """The deadline binding the party that reports ``event``."""
        kind = event.get("type")
        if not isinstance(kind, str):
            return None
        if kind == "sale" and not (
            event.get("vin") or self.battery.get("category") in VEHICLE_CATEGORIES
        ):
            return NON_VEHICLE_SALE
        for key in party_keys(as_mapping(event.get("party"))):
            role = roles.get(key)
            if role is not None and (kind, role) in ROLE_DEADLINES:
                return ROLE_DEADLINES[(kind, role)]
        return DEADLINES.get(kind)

    def run(self) -> Iterator[Finding]:
        """Findings on every event with a deadline: late, missing or undatable reports,
        and stages with no confirmed deadline."""
        roles = self.roles()
        for i, event in enumerate(self.events):
            kind = event.get("type")
            deadline = self.deadline_for(event, roles)
            if deadline is None:
                continue
            date_pointer = record_pointer("events", i, "date")
            report_pointer = record_pointer("events", i, "reported_on")
            happened = record_date(event.get("date"))
            if happened is None:
                yield Finding(
                    "date-invalid",
                    f"{date_pointer}: event date missing or not YYYY-MM-DD",
                    (date_pointer,),
                )
                continue
            late_law = happened >= MEASURES_2026_IN_FORCE
            source = deadline.source
            if late_law:
                source += (
                    "; the event falls under the 2026 Interim Measures (in force "
                    "2026-04-01), whose deadlines are not yet known"
                )
            doubts = []
            if deadline.uncertain:
                doubts.append(
                    f"the deadline is confirmed only as {deadline.confidence} ({deadline.source})"
                )
            if late_law:
                doubts.append("the 2026 Interim Measures' deadlines are not known")
            uncertainty = "; ".join(doubts) or None
            if deadline.working_days is None:
                yield Finding(
                    "deadline-unknown",
                    f"/events/{i}: {kind} of {happened}, reported by {deadline.party}: no "
                    f"confirmed reporting deadline (trigger: {deadline.trigger})",
                    (report_pointer,),
                    True,
                    {"event_type": kind, "party": deadline.party},
                    source,
                )
                continue
            start, start_pointer = happened, date_pointer
            certificate = record_date(event.get("coc_date")) if kind == "sale" else None
            if certificate is not None:
                start, start_pointer = certificate, record_pointer("events", i, "coc_date")
            allowed = deadline.working_days
            due = self.calendar.add_working_days(start, allowed)
            raw_report = event.get("reported_on")
            reported = record_date(raw_report)
            details: dict[str, Any] = {
                "event_type": kind,
                "party": deadline.party,
                "trigger": deadline.trigger,
                "start": start.isoformat(),
                "working_days_allowed": allowed,
                "due_by": due.isoformat(),
            }
            if reported is None:
                if raw_report is not None:
                    yield Finding(
                        "date-invalid",
                        f"{report_pointer}: {raw_report!r} is not YYYY-MM-DD",
                        (report_pointer,),
                    )
                    continue
                yield Finding(
                    "report-missing",
                    f"/events/{i}: {kind} of {happened} has no reported_on; {deadline.party} "
                    f"had to report it within {allowed} working days, by {due}",
                    (report_pointer,),
                    details=details,
                    source=source,
                    uncertainty=uncertainty,
                )
                continue
            covered = self.calendar.covers_span(start, max(reported, due))
            taken = self.calendar.working_days_between(start, reported)
            details.update(
                reported_on=reported.isoformat(), working_days_taken=taken, calendar_covered=covered
            )
            if taken < 0:
                yield Finding(
                    "date-invalid",
                    f"{report_pointer}: reported on {reported}, before the event ({start})",
                    (report_pointer, start_pointer),
                )
            elif taken > allowed:
                note = (
                    ""
                    if covered
                    else (" (holiday calendar lacks a year of this span: weekends only)")
                )
                if not covered:
                    doubts.append("the holiday calendar lacks a year of the span")
                yield Finding(
                    "report-late",
                    f"/events/{i}: {kind} of {happened} reported on {reported}: {taken} "
                    f"working days after {start}, {allowed} allowed for {deadline.party} "
                    f"(due by {due}){note}",
                    (report_pointer, start_pointer),
                    details=details,
                    source=source,
                    uncertainty="; ".join(doubts) or None,
                )
            elif not covered:
                yield Finding(
                    "calendar-not-covered",
                    f"/events/{i}: {kind} reported {taken} working days after {start} "
                    f"({allowed} allowed), counted without the holiday arrangement of a year "
                    "the calendar lacks",
                    (report_pointer,),
                    details=details,
                    source=source,
                    uncertainty="the holiday calendar lacks a year of the span: weekends only",
                )
