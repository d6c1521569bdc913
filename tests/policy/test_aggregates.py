"""aggregate_only enforced: per-event values never leave, only the gateway's aggregates
with their period at month precision."""

from __future__ import annotations

import json
import re

import pytest

from gateway.errors import TransformError
from gateway.mapping import transforms
from gateway.policy.categories import CATEGORIES
from gateway.policy.table import apply_policy, load_policy
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from tests.helpers import RECORDS, covering_everything

MAPPING = "cn-trace-to-eu-passport@1.0.0"
BASE = "https://gw.example"
# A timestamp or a date finer than a month: what never leaves from an aggregate path.
FINE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}")


def _usage(record):
    kept, decision = apply_policy(record, load_policy(), approved=CATEGORIES)
    return kept["usage"], decision


def test_alarms_leave_as_counts_per_type_and_level_over_the_period():
    record = read_record_file(RECORDS / "vin-repair-pack.json")
    assert record["usage"]["alarms"][1]["time"] == "2025-10-29T07:55:31+08:00"
    usage, decision = _usage(record)
    # From the first installation (2024-07-22) to the measurement date (2025-11-01).
    assert usage["alarms"] == {
        "from": "2024-07",
        "to": "2025-11",
        "counts": [
            {"type": "insulation", "level": 3, "count": 1},
            {"type": "temperature_difference", "level": 2, "count": 1},
        ],
    }
    assert "usage.alarms" in decision.aggregated
    assert not FINE_TIME.search(json.dumps(usage["alarms"]))


def test_a_usage_history_without_alarms_says_none_were_recorded():
    record = read_record_file(RECORDS / "echelon-pack.json")
    assert "alarms" not in record["usage"]
    usage, _ = _usage(record)
    # Its production date (the second-life product) is after the measurement: no start.
    assert usage["alarms"] == {"from": None, "to": "2026-05", "counts": []}
    no_usage = read_record_file(RECORDS / "sparse-pack.json")
    kept, _ = apply_policy(no_usage, load_policy(), approved=CATEGORIES)
    assert "usage" not in kept, "no BMS history, nothing to say"


def test_the_period_widens_to_cover_every_alarm():
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    record["usage"]["alarms"] = [
        {"type": "insulation", "level": 3, "time": "2024-05-02T01:02:03+08:00"},
        {"type": "insulation", "level": 3, "time": "2026-06-01T00:00:00+08:00"},
        {"type": "insulation"},
    ]
    usage, _ = _usage(record)
    assert usage["alarms"] == {
        "from": "2024-05",
        "to": "2026-06",
        "counts": [
            {"type": "insulation", "level": 0, "count": 1},
            {"type": "insulation", "level": 3, "count": 2},
        ],
    }


def test_a_list_with_no_aggregate_and_a_fine_date_are_withheld_at_aggregate_paths():
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    policy = load_policy().stricter(
        {"events": "aggregate_only", "production.date": "aggregate_only"}, name="tenant:t@1"
    )
    kept, decision = apply_policy(record, policy)
    assert "events" not in kept and "date" not in kept["production"]
    assert "a list of individual values" in decision.withheld_paths["events"]
    assert "finer than a month" in decision.withheld_paths["production.date"]
    # A plain figure is an aggregate already and leaves.
    assert kept["production"]["batch"] == record["production"]["batch"]


def _counts(start, end, *counts):
    return {
        "from": start,
        "to": end,
        "counts": [{"type": t, "level": level, "count": n} for t, level, n in counts],
    }


@pytest.mark.parametrize(
    ("aggregate", "min_level", "text"),
    [
        (
            _counts("2025-10", "2026-04", ("insulation", 3, 1)),
            3,
            "insulation, level 3: 1 (2025-10 to 2026-04)",
        ),
        (
            _counts("2024-07", "2026-04", ("soc_low", 1, 4)),
            3,
            "none recorded at level >= 3 from 2024-07 to 2026-04",
        ),
        (
            _counts("2024-07", "2026-04", ("soc_low", 1, 4), ("insulation", 3, 2)),
            1,
            "soc_low, level 1: 4 (2024-07 to 2026-04); insulation, level 3: 2 (2024-07 to 2026-04)",
        ),
        (_counts(None, "2026-05"), 3, "none recorded at level >= 3 until 2026-05"),
        (_counts(None, None), 3, "none recorded at level >= 3 (period not recorded)"),
    ],
)
def test_alarm_events_reads_the_aggregate(aggregate, min_level, text):
    context = transforms.Context(record={}, base_url=BASE, decode_code=lambda c: {})
    assert transforms.apply("alarm_events", aggregate, context, {"min_level": min_level}) == text


def test_alarm_events_refuses_an_individual_alarm():
    context = transforms.Context(record={}, base_url=BASE, decode_code=lambda c: {})
    alarm = {"type": "insulation", "level": 3, "time": "2025-10-29T07:55:31+08:00"}
    with pytest.raises(TransformError, match="not individual alarms"):
        transforms.apply("alarm_events", alarm, context, {"min_level": 3})


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDS.glob("*.json")))
def test_no_passport_document_carries_an_alarm_time(name):
    record = read_record_file(RECORDS / name)
    times = [a["time"] for a in (record.get("usage") or {}).get("alarms", []) if "time" in a]
    for approvals in ((), (covering_everything(),)):
        draft = draft_passport(record, mapping=MAPPING, base_url=BASE, approvals=approvals)
        text = json.dumps([draft.documents, draft.gaps])
        for moment in times:
            assert moment not in text and moment[:10] not in text
