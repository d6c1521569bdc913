"""The shipped cross-border policy tables and how a record passes through them."""

import csv
import re

import pytest

from gateway.errors import PolicyError
from gateway.policy.categories import CATEGORIES
from gateway.policy.table import (
    APPROVAL_REASON,
    CLASSES,
    DEFAULT_POLICY,
    TABLES_DIR,
    apply_policy,
    load_policy,
    shipped_policies,
)
from gateway.records.paths import field_paths
from gateway.vocab.catalog import load_catalog

RECORD = {
    "battery": {"code": "Z9ZPBA10000001F3F0000123", "category": "ev"},
    "production": {"date": "2024-07-04"},
    "vehicle": {"vin": "LNBSCTEST00000001", "last_location": {"lat": "30.5", "lon": "104.0"}},
    "events": [
        {
            "type": "sale",
            "date": "2025-04-01",
            "vin": "LNBSCTEST00000001",
            "region": "510100",
            "party": {"name": "Example Auto"},
        },
        {"type": "dismantling", "date": "2026-03-10", "certificate_no": "BF-510100-2026-001234"},
    ],
    "usage": {"as_of": "2026-04-30", "soh": "97", "cycles": 120},
}


def test_vin_owner_location_and_elv_certificate_never_leave_by_default():
    policy = load_policy()
    kept, decision = apply_policy(RECORD, policy)
    assert "vehicle" not in kept
    assert "vin" not in kept["events"][0] and "region" not in kept["events"][0]
    assert "certificate_no" not in kept["events"][1]
    assert kept["events"][0]["party"] == {"name": "Example Auto"}
    assert decision.withheld[:4] == (
        "vehicle",
        "events.vin",
        "events.region",
        "events.certificate_no",
    )
    assert decision.policy == decision.applied == DEFAULT_POLICY == "cn-export@1.2.0"
    assert RECORD["vehicle"]["vin"] == "LNBSCTEST00000001", "the input is not changed"


def test_bms_health_data_stays_without_an_approval_and_the_date_leaves():
    kept, decision = apply_policy(RECORD, load_policy())
    assert kept["usage"] == {"as_of": "2026-04-30"}
    assert {"usage.soh", "usage.cycles"} <= set(decision.withheld)
    assert decision.withheld_paths["usage.soh"].startswith(APPROVAL_REASON)
    # Paths the record lacks are withheld too: a gap report names the reason anyway.
    assert decision.withheld_paths["eu_supplement.power_fade"].startswith(APPROVAL_REASON)
    assert decision.released == {}


def test_an_approved_category_leaves_and_only_that_one():
    kept, decision = apply_policy(RECORD, load_policy(), approved={"state_of_health"})
    assert kept["usage"] == {"as_of": "2026-04-30", "soh": "97"}
    assert decision.released == {"usage.soh": "state_of_health"}
    assert "usage.cycles" in decision.withheld
    assert decision.category_of("usage.soh") == "state_of_health"
    assert decision.category_of("usage.cycles") is None


def test_unclassified_fields_are_withheld_even_new_usage_members():
    policy = load_policy()
    assert policy.classify("something_new.field") == "withhold"
    assert policy.classify("usage.new_bms_counter") == "withhold"
    kept, decision = apply_policy(
        {**RECORD, "usage": {"as_of": "2026-04-30", "new_bms_counter": 3}},
        policy,
        approved=CATEGORIES,
    )
    assert kept["usage"] == {"as_of": "2026-04-30", "alarms": kept["usage"]["alarms"]}
    assert "usage.new_bms_counter" in decision.withheld


def test_the_earlier_table_is_kept_byte_for_byte_and_still_loads():
    assert shipped_policies() == ["cn-export@1.0.0", "cn-export@1.1.0", "cn-export@1.2.0"]
    old = load_policy("cn-export@1.0.0")
    assert old.classify("usage.soh") == "aggregate_only"
    assert old.classify("events.certificate_no") == "export"


def _rows(version: str = "1.2.0"):
    with (TABLES_DIR / f"cn-export-{version}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("version", ["1.1.0", "1.2.0"])
def test_every_row_names_a_record_path_a_class_and_bms_rows_a_category(version: str):
    known = {p.replace("[]", "") for p in field_paths()} | {"telemetry"}
    for row in _rows(version):
        assert row["path"] in known, row["path"]
        assert row["class"] in CLASSES
        assert (row["class"] == "approval_required") == bool(row["category"]), row["path"]
        assert row["legal_basis"]


def test_every_bms_derived_source_is_classified():
    policy = load_policy()
    usage = {p for p in field_paths() if re.fullmatch(r"usage\.\w+", p)}
    for path in sorted(usage - {"usage.as_of"}):
        assert policy.classify(path) == "approval_required", path
    assert policy.classify("usage.as_of") == "export"
    assert policy.classify("usage.temperature.since") == "export"
    assert policy.classify("usage.temperature.as_of") == "export"
    assert policy.classify("telemetry") == "withhold"
    health = {
        "state_of_health", "state_of_certified_energy", "state_of_charge", "remaining_capacity",
        "remaining_usable_battery_energy", "remaining_power_capability", "capacity_fade",
        "power_fade", "remaining_round_trip_efficiency", "round_trip_efficiency_fade",
        "current_self_discharge_rate", "evolution_of_self_discharge",
        "internal_resistance_increase_pack", "internal_resistance_increase_cell",
        "internal_resistance_increase_module", "current_internal_resistance",
        "temperature_information",
    }  # fmt: skip
    keys = {a.key for a in load_catalog()}
    assert health <= keys
    for key in health:
        assert policy.classify(f"eu_supplement.{key}") == "approval_required", key
    # Design data of the product at production is not BMS data.
    assert policy.classify("eu_supplement.initial_round_trip_efficiency") == "export"
    used = {r["category"] for r in _rows() if r["category"]}
    assert used == set(CATEGORIES)


def test_a_tenant_may_tighten_but_not_loosen():
    policy = load_policy()
    strict = policy.stricter({"events": "withhold"}, name="tenant:a@1")
    assert strict.ref == "cn-export@1.2.0+tenant:a@1"
    # A rule covers what is below it, even paths the table classifies on their own.
    assert strict.classify("events.party") == "withhold"
    kept, decision = apply_policy(RECORD, strict)
    assert "events" not in kept and "events" in decision.withheld
    with pytest.raises(PolicyError, match="stricter, not looser") as refused:
        policy.stricter({"vehicle.vin": "export"}, name="tenant:b@1")
    assert refused.value.pointer == "vehicle.vin"
    with pytest.raises(PolicyError, match="stricter, not looser"):
        policy.stricter({"usage.soh": "aggregate_only"}, name="tenant:b@1")
    # Judged against the policy as tightened so far: a child cannot undo its parent.
    with pytest.raises(PolicyError, match=r"events\.party"):
        policy.stricter({"events": "withhold", "events.party": "export"}, name="tenant:b@1")


def test_approval_required_needs_a_category():
    policy = load_policy()
    assert policy.stricter({"usage.soc": "withhold"}, name="t").classify("usage.soc") == "withhold"
    with pytest.raises(PolicyError, match="needs a data category"):
        policy.stricter({"specs.mass": "approval_required"}, name="t")
    with pytest.raises(PolicyError, match="is not one of"):
        policy.stricter({"specs.mass": "secret"}, name="t")


def test_unknown_policy_names_what_is_shipped():
    with pytest.raises(PolicyError, match="cn-export-1.1.0"):
        load_policy("cn-export@9.9.9")


TEMPERATURE = {"min": -8, "max": 47, "since": "2024-07-22", "as_of": "2026-03-31"}


def test_probe_temperature_extremes_leave_only_under_an_approval_of_1_2_0():
    record = dict(RECORD, usage={**RECORD["usage"], "temperature": TEMPERATURE})
    kept, decision = apply_policy(record, load_policy("cn-export@1.2.0"))
    assert "temperature" not in kept["usage"]
    assert decision.withheld_paths["usage.temperature"].startswith(APPROVAL_REASON)
    kept, decision = apply_policy(record, load_policy("cn-export@1.2.0"), ["temperature"])
    assert kept["usage"]["temperature"] == TEMPERATURE  # the dates are classified export
    assert decision.released["usage.temperature"] == "temperature"
    # 1.1.0 does not classify the member: it stays in China whatever the approvals.
    kept, decision = apply_policy(record, load_policy("cn-export@1.1.0"), CATEGORIES)
    assert "temperature" not in kept["usage"]
    assert "not classified for export" in decision.withheld_paths["usage.temperature"]


def test_1_2_0_changes_only_the_rows_of_the_temperature_extremes():
    before = {r["path"]: r for r in _rows("1.1.0")}
    after = {r["path"]: r for r in _rows("1.2.0")}
    assert set(after) - set(before) == {
        "usage.temperature",
        "usage.temperature.since",
        "usage.temperature.as_of",
    }
    assert all(after[path] == row for path, row in before.items())
    assert after["usage.temperature"]["class"] == "approval_required"
    assert after["usage.temperature"]["category"] == "temperature"
