"""National findings on the compliance fixtures and on hand-made records."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.compliance import RULES, Whitelist, national_findings, national_report
from gateway.compliance.whitelist import COLUMNS
from gateway.paths import FIXTURES_DIR, ROOT
from gateway.records.reader import read_record_file

FIXTURES = FIXTURES_DIR / "records" / "compliance"
FINDING_KEYS = {
    "rule",
    "severity",
    "message",
    "fields",
    "source",
    "uncertain",
    "uncertainty",
    "details",
}
#: The day the fixtures are judged on (dates after it are in the future).
TODAY = dt.date(2026, 12, 6)

# fixture -> the verdict, and the exact findings: (severity, rule, first pointer)
EXPECTED: dict[str, tuple[bool | str, set[tuple[str, str, str]]]] = {
    "clean.json": (
        True,
        {
            ("info", "deadline-unknown", "/events/0/reported_on"),
            ("warning", "whitelist-activity-unconfirmed", "/events/3/recipient"),
        },
    ),
    "late-report.json": (False, {("error", "report-late", "/events/1/reported_on")}),
    "non-whitelisted-recycler.json": (
        "unknown",
        {
            ("warning", "whitelist-not-listed", "/events/1/recipient"),
            ("info", "deadline-unknown", "/events/0/reported_on"),
        },
    ),
    "broken-hierarchy.json": (False, {("error", "hierarchy-level", "/battery/code")}),
    "ambiguous-code.json": (
        True,
        {
            ("warning", "code-ambiguous", "/battery/code"),
            ("warning", "chemistry-code-uncertain", "/battery/code"),
        },
    ),
    "echelon-missing-original.json": (
        False,
        {
            ("error", "echelon-original-code-missing", "/battery/original_code"),
            ("warning", "code-ambiguous", "/battery/code"),
        },
    ),
    # one variant of clean.json per plausibility, lifecycle and deadline rule
    "future-date.json": (
        False,
        {
            ("error", "date-future", "/battery/code"),
            ("error", "date-future", "/production/date"),
        },
    ),
    "serial-zero.json": (True, {("warning", "code-serial-zero", "/battery/code")}),
    "echelon-full-code.json": (True, {("warning", "echelon-code-form", "/battery/code")}),
    "code-date-mismatch.json": (False, {("error", "code-date-mismatch", "/battery/code")}),
    "code-chemistry-mismatch.json": (
        False,
        {("error", "code-chemistry-mismatch", "/battery/code")},
    ),
    "voltage-order.json": (False, {("error", "voltage-order", "/specs/min_voltage")}),
    "energy-capacity-mismatch.json": (
        True,
        {("warning", "energy-capacity-mismatch", "/specs/rated_energy")},
    ),
    "lmt-over-25-kg.json": (False, {("error", "category-mass", "/battery/category")}),
    "industrial-2-kwh.json": (True, {("info", "passport-not-required", "/battery/category")}),
    "remaining-above-rated.json": (
        True,
        {("warning", "remaining-capacity-above-rated", "/usage/remaining_capacity")},
    ),
    "recycled.json": (True, {("warning", "battery-recycled", "/events/0")}),
    "dismantler-handover-late.json": (
        False,
        {
            ("error", "report-late", "/events/1/reported_on"),
            ("warning", "whitelist-activity-unconfirmed", "/events/1/recipient"),
        },
    ),
    "storage-sale.json": (True, {("info", "deadline-unknown", "/events/0/reported_on")}),
    "vehicle-sale-late.json": ("unknown", {("warning", "report-late", "/events/0/reported_on")}),
}


def load(name: str) -> dict[str, Any]:
    # Read through the record reader: every fixture is a valid cn-trace record.
    return read_record_file(FIXTURES / name)


def test_every_fixture_is_covered() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(EXPECTED)


def test_sources_list_every_fixture() -> None:
    text = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    assert [name for name in EXPECTED if f"`{name}`" not in text] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(name: str) -> None:
    report = national_report(load(name), today=TODAY)
    findings = report["findings"]
    compliant, expected = EXPECTED[name]
    assert {(f["severity"], f["rule"], f["fields"][0]) for f in findings} == expected
    assert report["summary"]["compliant"] == compliant
    assert bool(report["summary"]["unknown_because"]) is (compliant == "unknown")
    for finding in findings:
        assert set(finding) == FINDING_KEYS
        rule = RULES[finding["rule"]]
        # an uncertain finding of a breach rule is a warning, with the reason
        if rule.severity == "error" and finding["uncertain"]:
            assert finding["severity"] == "warning"
        else:
            assert finding["severity"] == rule.severity
        assert (finding["uncertainty"] is not None) is finding["uncertain"]
        assert finding["fields"] and all(p.startswith("/") for p in finding["fields"])
        assert finding["source"]
    json.dumps(findings)  # JSON-ready


def test_clean_record_has_no_error() -> None:
    report = national_report(load("clean.json"))
    assert report["summary"]["error"] == 0 and report["summary"]["compliant"] is True
    assert report["data"]["calendar_years"] == list(range(2018, 2027))
    assert report["data"]["whitelist"]["complete"] is False


def test_contract_example_has_no_error() -> None:
    record = read_record_file(ROOT / "docs" / "record-example.json")
    assert not [f for f in national_findings(record) if f["severity"] == "error"]


def test_late_report_counts_working_days() -> None:
    (late,) = national_findings(load("late-report.json"))
    # 2024-09-20 -> 2024-11-08 spans the National Day week and its two make-up days.
    assert late["details"]["working_days_taken"] == 32
    assert late["details"]["working_days_allowed"] == 30
    assert late["details"]["due_by"] == "2024-11-06"
    assert late["fields"] == ["/events/1/reported_on", "/events/1/date"]
    assert "Art. 10" in late["source"] and late["uncertain"] is False


def test_not_listed_is_uncertain_while_the_list_is_incomplete() -> None:
    finding = next(
        f
        for f in national_findings(load("non-whitelisted-recycler.json"))
        if f["rule"] == "whitelist-not-listed"
    )
    assert finding["uncertain"] is True and finding["severity"] == "warning"
    assert finding["fields"] == ["/events/1/recipient", "/events/1/date"]
    # how complete the table is: batches held, firms held, firms known to be listed
    assert "holds batch 1 of 5 announced, 5 firms of at least 156 listed" in finding["message"]
    assert finding["uncertainty"].startswith("the white-list table is incomplete")
    report = national_report(load("non-whitelisted-recycler.json"))
    assert report["summary"]["compliant"] == "unknown"
    assert report["summary"]["unknown_because"] == [
        "whitelist-not-listed at /events/1/recipient: " + finding["uncertainty"]
    ]


def test_broken_hierarchy_points_at_the_top_code() -> None:
    (finding,) = national_findings(load("broken-hierarchy.json"))
    assert finding["fields"] == ["/battery/code", "/battery/modules"]


# -- hand-made records (plain dicts, not necessarily schema-valid) ----------------------


def record(**battery: Any) -> dict[str, Any]:
    base = copy.deepcopy(load("clean.json"))
    base["events"] = []
    base["battery"].update(battery)
    return base


def rules(findings: list[dict[str, Any]]) -> set[str]:
    return {f["rule"] for f in findings}


def test_module_code_of_level_c() -> None:
    rec = record()
    cell = rec["battery"]["modules"][0]["cells"][0]
    rec["battery"]["modules"][0]["code"] = cell.replace("3000011", "3000099")
    findings = national_findings(rec)
    level = [f for f in findings if f["rule"] == "hierarchy-level"]
    assert [f["fields"] for f in level] == [["/battery/modules/0/code"]]


def test_cell_level_mismatch_and_duplicates() -> None:
    rec = record()
    modules = rec["battery"]["modules"]
    modules[1]["cells"][0] = modules[0]["cells"][0]  # same cell twice
    modules[1]["cells"][1] = modules[0]["code"].replace("B54", "B55")  # a module as a cell
    found = {(f["rule"], f["fields"][0]) for f in national_findings(rec)}
    assert ("hierarchy-duplicate", "/battery/modules/1/cells/0") in found
    assert ("hierarchy-level", "/battery/modules/1/cells/1") in found


def test_invalid_and_ambiguous_codes_everywhere() -> None:
    rec = record(original_code="4A6PEPM27KLPCLH9Y1000001")  # 2027-09-31: no such day
    rec["events"] = [
        {
            "type": "echelon_use",
            "date": "2025-03-03",
            "reported_on": "2025-03-05",
            "new_code": "4A6PEPM27KLPCLJ111000001",
        }
    ]  # year letter J (2028?)
    rec["battery"]["modules"][0]["cells"][1] = "x12CEPM27KLPCLE623000012"  # lower case
    findings = national_findings(rec)
    by_pointer = {(f["rule"], f["fields"][0]) for f in findings}
    assert ("code-invalid", "/battery/original_code") in by_pointer
    assert ("code-invalid", "/battery/modules/0/cells/1") in by_pointer
    assert ("code-ambiguous", "/events/0/new_code") in by_pointer
    # the new code is also a full 24-character code and dated 2028, after today
    assert ("echelon-code-form", "/events/0/new_code") in by_pointer
    assert ("date-future", "/events/0/new_code") in by_pointer
    ambiguous = next(
        f
        for f in findings
        if f["rule"] == "code-ambiguous" and f["fields"] == ["/events/0/new_code"]
    )
    assert ambiguous["details"]["ambiguities"][0]["position"] == 15


def test_manufacturer_code_mismatch() -> None:
    rec = record()
    rec["manufacturer"]["code"] = "ZZZ"
    assert "manufacturer-code-mismatch" in rules(national_findings(rec))


def test_echelon_use_keeps_original_code() -> None:
    rec = record()
    rec["events"] = [{"type": "echelon_use", "date": "2025-03-03", "reported_on": "2025-03-05"}]
    assert "echelon-original-code-missing" in rules(national_findings(rec))
    # The original battery's record carries the new code in the event: the link exists.
    rec["events"][0]["new_code"] = "Z9ZPBA1E370000123RP"
    assert "echelon-original-code-missing" not in rules(national_findings(rec))
    # The echelon product's own record with its original code: fine.
    rec = record(
        code="Z9ZPBA1E370000123RP",
        status="repurposed",
        original_code=load("clean.json")["battery"]["code"],
        modules=[],
    )
    rec["manufacturer"]["code"] = "Z9Z"
    assert "echelon-original-code-missing" not in rules(national_findings(rec))


@pytest.mark.parametrize(
    ("event_type", "allowed"),
    [
        ("repair", 30),
        ("replacement", 30),
        ("handover", 30),
        ("dismantling", 15),
        ("echelon_use", 15),
        ("recycling", 30),
        ("sale", 7),
    ],
)
def test_deadline_per_stage(event_type: str, allowed: int) -> None:
    from gateway.compliance.calendar import WorkingDays

    calendar = WorkingDays.load()
    start = dt.date(2025, 3, 3)
    on_time = calendar.add_working_days(start, allowed)
    late = calendar.add_working_days(start, allowed + 1)
    rec = record()
    rec["events"] = [
        {"type": event_type, "date": start.isoformat(), "reported_on": on_time.isoformat()},
        {"type": event_type, "date": start.isoformat(), "reported_on": late.isoformat()},
    ]
    lates = [f for f in national_findings(rec) if f["rule"] == "report-late"]
    assert [f["fields"][0] for f in lates] == ["/events/1/reported_on"]
    assert lates[0]["details"]["working_days_taken"] == allowed + 1
    assert lates[0]["uncertain"] is (event_type == "sale")  # the 7 days are a draft rule
    assert lates[0]["severity"] == ("warning" if event_type == "sale" else "error")


def test_sale_deadline_counts_from_the_certificate() -> None:
    rec = record()
    rec["events"] = [
        {
            "type": "sale",
            "date": "2025-03-20",
            "coc_date": "2025-03-03",
            "reported_on": "2025-03-21",
        }
    ]
    (late,) = [f for f in national_findings(rec) if f["rule"] == "report-late"]
    assert late["fields"] == ["/events/0/reported_on", "/events/0/coc_date"]


def test_missing_report_and_unknown_deadline() -> None:
    rec = record()
    rec["events"] = [
        {"type": "repair", "date": "2025-03-03"},
        {"type": "production", "date": "2025-03-03", "reported_on": "2025-06-03"},
    ]
    findings = national_findings(rec)
    assert {(f["rule"], f["uncertain"]) for f in findings} == {
        ("report-missing", False),
        ("deadline-unknown", True),
    }


def test_events_under_the_2026_measures_are_uncertain() -> None:
    rec = record()
    rec["events"] = [{"type": "repair", "date": "2026-04-01", "reported_on": "2026-07-01"}]
    (late,) = [f for f in national_findings(rec) if f["rule"] == "report-late"]
    assert late["uncertain"] is True and "2026 Interim Measures" in late["source"]


def test_outside_the_calendar() -> None:
    rec = record()
    rec["events"] = [{"type": "repair", "date": "2027-03-01", "reported_on": "2027-03-05"}]
    assert rules(national_findings(rec, today=dt.date(2027, 6, 1))) == {"calendar-not-covered"}


@pytest.fixture
def custom(tmp_path: Path) -> Whitelist:
    path = tmp_path / "list.csv"
    path.write_text(
        ",".join(COLUMNS) + "\n"
        "2,公告2020年第1号,2020-12-01,江苏,甲梯次利用有限公司,,echelon_use,listed,,T-2-01\n"
        "2,公告2020年第1号,2020-12-01,江苏,乙再生利用有限公司,,recycling,removed,2024-06-30,"
        "T-2-02\n",
        encoding="utf-8",
    )
    return Whitelist.load(path)


def handover(recipient: dict[str, Any], date: str = "2025-03-03") -> dict[str, Any]:
    return {"type": "handover", "date": date, "reported_on": date, "recipient": recipient}


@pytest.mark.parametrize(
    ("recipient", "date", "expected"),
    [
        (
            {"name": "甲梯次利用有限公司", "licence_no": "T-2-01", "activity": "echelon_use"},
            "2025-03-03",
            set(),
        ),
        (
            {"name": "甲梯次利用有限公司", "activity": "recycling"},
            "2025-03-03",
            {"whitelist-other-activity"},
        ),
        (
            {"name": "甲梯次利用有限公司", "licence_no": "T-2-01"},
            "2020-11-30",
            {"whitelist-not-yet-listed"},
        ),
        (
            {"name": "乙再生利用有限公司", "licence_no": "T-2-02", "activity": "recycling"},
            "2025-03-03",
            {"whitelist-removed"},
        ),
        ({"name": "丙公司", "activity": "recycling"}, "2025-03-03", {"whitelist-not-listed"}),
        (
            {"name": "丙公司", "licence_no": "T-2-01", "activity": "echelon_use"},
            "2025-03-03",
            {"whitelist-identity-mismatch"},
        ),
    ],
)
def test_handover_against_the_whitelist(
    custom: Whitelist, recipient: dict[str, Any], date: str, expected: set[str]
) -> None:
    rec = record()
    rec["events"] = [handover(recipient, date)]
    found = national_findings(rec, whitelist=custom)
    assert rules(found) == expected
    # A custom table with no batch metadata of its own is not known to be incomplete.
    assert not any(f["uncertain"] for f in found if f["rule"] == "whitelist-not-listed")


def test_other_handover_parties(custom: Whitelist) -> None:
    rec = record()
    rec["events"] = [
        {
            "type": "dismantling",
            "date": "2025-03-03",
            "reported_on": "2025-03-04",
            "destination": {"name": "丙公司", "activity": "recycling"},
        },
        {
            "type": "recycling",
            "date": "2025-03-03",
            "reported_on": "2025-03-04",
            "party": {"name": "甲梯次利用有限公司", "licence_no": "T-2-01"},
        },
        {"type": "handover", "date": "2025-03-03", "reported_on": "2025-03-04"},
    ]
    found = {(f["rule"], f["fields"][0]) for f in national_findings(rec, whitelist=custom)}
    assert found == {
        ("whitelist-not-listed", "/events/0/destination"),
        ("whitelist-other-activity", "/events/1/party"),
        ("whitelist-recipient-missing", "/events/2/recipient"),
    }


def test_docs_describe_every_rule() -> None:
    text = (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"`{rule}`" not in text] == []


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"battery": 5, "events": [1, {"type": 3}]},
        {"battery": {"code": "A" * 5000}},
        {"battery": {"code": 7}, "events": [{"type": "repair", "date": "2025-02-30"}]},
    ],
)
def test_malformed_records_are_reported_not_raised(broken: dict[str, Any]) -> None:
    findings = national_findings(broken)
    assert findings and all(f["severity"] == "error" for f in findings[:1])
    assert all(len(f["message"]) < 500 for f in findings)


def test_hierarchy_findings_point_at_the_record_position_of_a_cell() -> None:
    # A cell that is not a string is reported by the code rule; the positions of the
    # cells after it still point where they are in the record.
    record = read_record_file(ROOT / "fixtures" / "records" / "ncm-ev-pack.json")
    cells = record["battery"]["modules"][0]["cells"]
    record["battery"]["modules"][0]["cells"] = [12345, cells[0], cells[0]]
    found = {(f["rule"], f["fields"][0]) for f in national_findings(record)}
    assert ("code-invalid", "/battery/modules/0/cells/0") in found
    assert ("hierarchy-duplicate", "/battery/modules/0/cells/2") in found


def test_findings_of_a_large_pack_name_each_cell_once() -> None:
    # 1,536 cells with unique codes: none of the codes is ambiguous (day letter A reads
    # 10 in both alphabets); a cell given twice and a module given as a cell are found
    # where they are.
    record = read_record_file(ROOT / "fixtures" / "records" / "ncm-ev-pack.json")
    modules = record["battery"]["modules"]
    base = modules[0]["cells"][0]
    cells = [f"{base[:17]}{n:07d}" for n in range(1, 1537)]
    record["battery"]["modules"] = [
        {"code": f"{modules[0]['code'][:17]}{m:07d}", "cells": cells[m * 12 : m * 12 + 12]}
        for m in range(128)
    ]
    record["battery"]["modules"][100]["cells"][5] = cells[7]
    record["battery"]["modules"][127]["cells"][11] = record["battery"]["modules"][3]["code"]
    findings = national_findings(record)
    rules = [
        (f["rule"], f["fields"][0])
        for f in findings
        if f["rule"].startswith(("hierarchy-", "code-invalid"))
    ]
    assert sorted(rules) == [
        ("hierarchy-duplicate", "/battery/modules/100/cells/5"),
        ("hierarchy-duplicate", "/battery/modules/127/cells/11"),
        ("hierarchy-level", "/battery/modules/127/cells/11"),
    ]
    assert not [f for f in findings if f["rule"] == "code-ambiguous"]
