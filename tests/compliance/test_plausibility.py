"""Consistency findings, deadlines by reporting party and the tri-state verdict, on
hand-made variants and on the shipped fixtures."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from gateway.compliance import national_findings, national_report
from gateway.compliance.calendar import WorkingDays
from gateway.compliance.findings import today_in_china
from gateway.compliance.plausibility import chemistries
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file

TODAY = dt.date(2026, 12, 6)
RECORDS = FIXTURES_DIR / "records"


def load(name: str) -> dict[str, Any]:
    return read_record_file(RECORDS / name)


def variant(name: str = "compliance/voltage-order.json", **specs: Any) -> dict[str, Any]:
    """A plain-dict copy of a fixture (not necessarily schema-valid) with specs changed."""
    record = copy.deepcopy(load(name))
    record.setdefault("specs", {}).update(specs)
    return record


def found(record: dict[str, Any], **kwargs: Any) -> set[tuple[str, str, str]]:
    return {
        (f["rule"], f["severity"], f["fields"][0])
        for f in national_findings(record, today=TODAY, **kwargs)
    }


def test_state_of_health_above_100_is_an_error() -> None:
    # The record schema refuses it at the door; merged or unvalidated data is checked too.
    record = variant(min_voltage={"value": "268.8", "unit": "V"})
    record["usage"] = {"soh": "100.5"}
    assert found(record) == {("soh-above-100", "error", "/usage/soh")}


def test_quantities_compare_across_units() -> None:
    record = variant(
        min_voltage={"value": "268800", "unit": "mV"},
        rated_capacity={"value": "150000", "unit": "mAh"},
        rated_energy={"value": "0.05256", "unit": "MWh"},
    )
    assert found(record) == set()


@pytest.mark.parametrize(
    "value",
    [{"value": "abc", "unit": "V"}, {"value": "3", "unit": "furlong"}, "350", None, {}],
)
def test_malformed_quantities_are_left_to_the_schema(value: Any) -> None:
    assert found(variant(min_voltage=value)) == set()


def test_energy_tolerance_is_five_per_cent() -> None:
    # 150 Ah x 350.4 V = 52.56 kWh; 5 % of the stated energy either way is accepted.
    assert (
        found(
            variant(
                min_voltage={"value": "1", "unit": "V"},
                rated_energy={"value": "55.3", "unit": "kWh"},
            )
        )
        == set()
    )
    record = variant(
        min_voltage={"value": "1", "unit": "V"}, rated_energy={"value": "49.9", "unit": "kWh"}
    )
    assert found(record) == {("energy-capacity-mismatch", "warning", "/specs/rated_energy")}


@pytest.mark.parametrize(
    ("text", "families"),
    [
        ("NCM811", {"ternary"}),
        ("LiFePO4 / 磷酸铁锂", {"lfp"}),
        ("三元材料", {"ternary"}),
        ("sodium-ion", set()),
        ("LTO anode, NMC cathode", {"lto", "ternary"}),
    ],
)
def test_chemistry_names(text: str, families: set[str]) -> None:
    assert chemistries(text) == families


def test_chemistry_against_an_unconfirmed_letter_is_unknown() -> None:
    # Letter C reads LMO only with confidence P: a contradiction is not certain.
    record = variant("compliance/ambiguous-code.json")
    record["specs"] = {"chemistry": "LFP"}
    report = national_report(record, today=TODAY)
    (mismatch,) = [f for f in report["findings"] if f["rule"] == "code-chemistry-mismatch"]
    assert mismatch["severity"] == "warning" and "confidence P" in mismatch["uncertainty"]
    assert report["summary"]["compliant"] == "unknown"
    # The same text against the confirmed letter E is a certain error.
    assert ("code-chemistry-mismatch", "error", "/battery/code") in found(
        variant(chemistry="LFP", min_voltage={"value": "1", "unit": "V"})
    )


def test_letter_z_agrees_with_chemistries_without_a_letter() -> None:
    record = variant(chemistry="sodium-ion", min_voltage={"value": "1", "unit": "V"})
    record["battery"]["code"] = "4A6PZPM27KLPCLE741000001"
    record["battery"].pop("modules")
    assert found(record) == set()
    record["specs"]["chemistry"] = "LFP"
    assert found(record) == {("code-chemistry-mismatch", "error", "/battery/code")}


def test_code_date_read_through_an_unconfirmed_letter_is_uncertain() -> None:
    record = variant(min_voltage={"value": "1", "unit": "V"})
    record["battery"]["code"] = "4A6PEPM27KLPCLE7J1000001"  # day J: 18, or 19 counted on
    record["battery"].pop("modules")
    record["production"] = {"date": "2024-07-19"}
    findings = national_findings(record, today=TODAY)
    (mismatch,) = [f for f in findings if f["rule"] == "code-date-mismatch"]
    assert mismatch["severity"] == "warning" and "date letters" in mismatch["uncertainty"]
    assert mismatch["fields"] == ["/battery/code", "/production/date"]


def test_uncertain_chemistry_letter_is_named_with_its_confidence() -> None:
    # The shipped VIN/repair pack: letter C, no specs.chemistry.
    (finding,) = [
        f
        for f in national_findings(load("vin-repair-pack.json"), today=TODAY)
        if f["rule"] == "chemistry-code-uncertain"
    ]
    assert finding["details"] == {"letter": "C", "reading": "lmo", "confidence": "P"}
    assert "confidence P" in finding["message"] and "not filled" in finding["message"]


def test_ncm_pack_has_no_pointless_day_warnings() -> None:
    findings = national_findings(load("ncm-ev-pack.json"), today=TODAY)
    assert {f["rule"] for f in findings} == {"deadline-unknown"}


def test_recycled_battery_and_a_later_event() -> None:
    findings = national_findings(load("end-of-life-pack.json"), today=TODAY)
    (recycled,) = [f for f in findings if f["rule"] == "battery-recycled"]
    assert recycled["fields"] == ["/events/5"] and "Art. 77(8)" in recycled["source"]
    assert recycled["details"] == {"recycled_on": "2026-05-25"}
    record = load("compliance/recycled.json")
    record["events"].append({"type": "echelon_use", "date": "2025-07-01"})
    assert "battery-recycled" not in {f["rule"] for f in national_findings(record, today=TODAY)}


def test_dismantler_handover_of_the_end_of_life_pack_has_15_days() -> None:
    # Its hand-over party is the dismantler of the dismantling event (same USCC).
    (late,) = [
        f
        for f in national_findings(load("end-of-life-pack.json"), today=TODAY)
        if f["rule"] == "report-late"
    ]
    assert late["fields"] == ["/events/4/reported_on", "/events/4/date"]
    assert late["details"]["working_days_allowed"] == 15
    assert late["details"]["party"] == "the ELV dismantler" and "Art. 13" in late["source"]
    assert late["severity"] == "error"


@pytest.mark.parametrize(
    ("role_event", "allowed"),
    [(None, 30), ("dismantling", 15), ("echelon_use", 15), ("recycling", 30)],
)
def test_handover_deadline_follows_the_reporting_party(
    role_event: str | None, allowed: int
) -> None:
    start = dt.date(2025, 3, 3)
    calendar = WorkingDays.load()
    party = {"name": "示例企业有限公司"}
    record = load("compliance/dismantler-handover-late.json")
    events: list[dict[str, Any]] = []
    if role_event:
        events.append(
            {
                "type": role_event,
                "date": "2025-03-03",
                "reported_on": "2025-03-04",
                "party": {"name": "示例企业 有限公司"},
            }
        )
    for days in (allowed, allowed + 1):
        events.append(
            {
                "type": "handover",
                "date": start.isoformat(),
                "reported_on": calendar.add_working_days(start, days).isoformat(),
                "party": party,
                "recipient": {"name": "湖南邦普循环科技有限公司", "activity": "recycling"},
            }
        )
    record["events"] = events
    lates = [f for f in national_findings(record, today=TODAY) if f["rule"] == "report-late"]
    assert [f["details"]["working_days_allowed"] for f in lates] == [allowed]
    assert lates[0]["fields"][0] == f"/events/{len(events) - 1}/reported_on"


def test_stationary_sale_has_no_vehicle_deadline() -> None:
    findings = national_findings(load("lfp-storage-pack.json"), today=TODAY)
    sale = [f for f in findings if f["fields"] == ["/events/1/reported_on"]]
    assert [(f["rule"], f["severity"]) for f in sale] == [("deadline-unknown", "info")]
    assert sale[0]["details"]["party"] == "the seller"


def test_verdicts_of_the_shipped_fixtures() -> None:
    verdicts = {
        name: national_report(load(name), today=TODAY)["summary"]["compliant"]
        for name in (
            "ncm-ev-pack.json",
            "ncm-ev-pack.xml",
            "lfp-storage-pack.json",
            "sparse-pack.json",
            "echelon-pack.json",
            "vin-repair-pack.json",
            "end-of-life-pack.json",
        )
    }
    assert verdicts == {
        "ncm-ev-pack.json": True,
        "ncm-ev-pack.xml": True,
        "lfp-storage-pack.json": True,
        "sparse-pack.json": True,
        # recipient missing from the incomplete white-list
        "echelon-pack.json": "unknown",
        # a vehicle sale 10 working days after the certificate: 7 is a draft article
        "vin-repair-pack.json": "unknown",
        # the dismantler's hand-over 22 working days after, 15 allowed (Art. 13)
        "end-of-life-pack.json": False,
    }


def test_today_is_the_date_in_china() -> None:
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    assert today_in_china() in {now.date(), (now + dt.timedelta(minutes=1)).date()}


def test_echelon_products_in_the_echelon_form_are_not_flagged() -> None:
    record = load("compliance/echelon-full-code.json")
    record["battery"]["code"] = "4A6PBPMF630000001RP"  # 2025-06-03, as production.date
    # only the echelon suffix's unconfirmed meaning remains
    assert found(record) == {("code-ambiguous", "warning", "/battery/code")}
    # The original battery's record names the new product's full code: flagged there.
    record = load("compliance/clean.json")
    record["events"] = [
        {"type": "echelon_use", "date": "2025-03-03", "new_code": "4A6PBPM27KLPCLF331000001"}
    ]
    assert ("echelon-code-form", "warning", "/events/0/new_code") in found(record)
