"""Source paths and sensitive paths derived from the schemas."""

from __future__ import annotations

from gateway.records import SENSITIVE_PATHS, field_paths
from gateway.records.paths import field_kinds, quantity_units
from gateway.vocab.catalog import load_catalog


def test_documented_examples_exist() -> None:
    assert {
        "model_version",
        "battery.code",
        "battery.modules[].code",
        "battery.modules[].cells[]",
        "specs.rated_capacity",
        "specs.rated_capacity.value",
        "specs.rated_capacity.unit",
        "events[].date",
        "events[].recipient.licence_no",
        "events[].new_rated_capacity.value",
        "events[].outputs[].mass_kg",
        "usage.soh",
        "usage.alarms[].level",
        "test_reports[].url",
        "vehicle.last_location.lat",
    } <= field_paths()


def test_every_catalog_key_is_an_eu_supplement_path() -> None:
    keys = {a.key for a in load_catalog()}
    assert {f"eu_supplement.{k}" for k in keys} <= field_paths()
    details = {"eu_supplement.battery_materials", "eu_supplement.spare_part_suppliers"}
    assert {
        p
        for p in field_paths()
        if p.startswith("eu_supplement.") and not p.startswith(tuple(details))
    } == {f"eu_supplement.{k}" for k in keys}
    # Beside the catalog keys, the parts of one-line attributes (their own schema).
    assert "eu_supplement.battery_materials[].cas" in field_paths()
    assert "eu_supplement.spare_part_suppliers[].parts[].part_number" in field_paths()


def test_no_unknown_paths() -> None:
    assert "battery.colour" not in field_paths()
    assert "events[].colour" not in field_paths()


def test_sensitive_paths() -> None:
    assert SENSITIVE_PATHS["vehicle.vin"] == "vehicle_identifier"
    assert SENSITIVE_PATHS["events[].vin"] == "vehicle_identifier"
    assert SENSITIVE_PATHS["vehicle.owner"] == "personal"
    assert SENSITIVE_PATHS["vehicle.owner.name"] == "personal"
    assert SENSITIVE_PATHS["vehicle.owner.address.street"] == "personal"
    assert SENSITIVE_PATHS["vehicle.last_location.lat"] == "location"
    assert set(SENSITIVE_PATHS.values()) == {"vehicle_identifier", "personal", "location"}
    assert set(SENSITIVE_PATHS) <= field_paths()
    # VIN wherever it appears, and nothing else outside the vehicle block.
    assert {p for p in field_paths() if p.rsplit(".", 1)[-1] == "vin"} == {
        p for p, c in SENSITIVE_PATHS.items() if c == "vehicle_identifier"
    }
    assert all(p.startswith("vehicle.") or p.endswith(".vin") for p in SENSITIVE_PATHS)


def test_kinds_and_units() -> None:
    kinds = field_kinds()
    assert kinds["specs.rated_capacity"] == "quantity"
    assert kinds["specs.rated_capacity.value"] == "decimal"
    assert kinds["usage.cycles"] == "integer"
    assert kinds["battery.code"] == "code"
    assert kinds["events[]"] == "object"
    assert kinds["battery.category"] == "enum"
    assert quantity_units()["specs.rated_capacity"] == ("Ah", "mAh")
    assert quantity_units()["events[].new_rated_capacity"] == ("Ah", "mAh")
    assert quantity_units()["usage.energy_throughput"] == ("kWh", "Wh", "MWh")
    assert set(kinds) == {p for p in field_paths() if not p.startswith("eu_supplement.")}
