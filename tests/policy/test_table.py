import pytest

from gateway.errors import PolicyError
from gateway.policy.table import apply_policy, load_policy

RECORD = {
    "battery": {"code": "Z9ZPBA10000001F3F0000123", "category": "ev"},
    "vehicle": {"vin": "LNBSCTEST00000001", "last_location": {"lat": "30.5", "lon": "104.0"}},
    "events": [
        {
            "type": "sale",
            "date": "2025-04-01",
            "vin": "LNBSCTEST00000001",
            "region": "510100",
            "party": {"name": "Example Auto"},
        }
    ],
    "usage": {"soh": "97", "cycles": 120},
}


def test_vin_owner_and_location_never_leave_by_default():
    policy = load_policy()
    kept, decision = apply_policy(RECORD, policy)
    assert "vehicle" not in kept
    assert "vin" not in kept["events"][0] and "region" not in kept["events"][0]
    assert kept["events"][0]["party"] == {"name": "Example Auto"}
    assert decision.withheld == ("vehicle", "events.vin", "events.region")
    assert set(decision.aggregated) == {"usage.soh", "usage.cycles"}
    assert decision.policy == "cn-export@1.0.0"
    assert RECORD["vehicle"]["vin"] == "LNBSCTEST00000001", "the input is not changed"


def test_unclassified_fields_are_withheld():
    assert load_policy().classify("something_new.field") == "withhold"


def test_a_tenant_may_tighten_but_not_loosen():
    policy = load_policy()
    strict = policy.stricter({"usage": "withhold"}, name="tenant-a")
    kept, decision = apply_policy(RECORD, strict)
    assert "usage" not in kept and "usage" in decision.withheld
    with pytest.raises(PolicyError, match="stricter, not looser"):
        policy.stricter({"vehicle.vin": "export"}, name="tenant-b")


def test_unknown_policy_names_what_is_shipped():
    with pytest.raises(PolicyError, match="cn-export-1.0.0"):
        load_policy("cn-export@9.9.9")
