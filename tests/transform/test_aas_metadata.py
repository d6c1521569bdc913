"""The EN 18223 metadata block, as JSON and in the AAS ``DppMetadata`` submodel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.transform import en18223
from gateway.transform.aas import PassportView, export_aas
from gateway.transform.en18223 import PassportFacts, metadata
from gateway.transform.measurements import measured_at, measurement_time
from gateway.vocab.loader import current_passport_context

PASSPORT = "https://gw.example/passports/Z9ZPEN8K52S96AE740000319"
ISSUED = datetime(2026, 12, 1, 8, 30, 15, tzinfo=UTC)


def _facts(**changes: Any) -> PassportFacts:
    values: dict[str, Any] = {
        "passport_id": PASSPORT,
        "unique_product_identifier": PASSPORT,
        "status": "active",
        "last_update": ISSUED,
        "economic_operator_id": "91350900MA8EXAMP1E",
        "facility_id": "CN-FJ-ND-002",
    }
    return PassportFacts(**{**values, **changes})


def test_the_block_has_the_en_18223_fields_in_order() -> None:
    block = metadata(_facts(), ["https://admin-shell.io/idta/SubmodelTemplate/x/1/0"])
    assert list(block) == list(en18223.FIELDS)
    assert block["granularity"] == "Item"
    assert block["lastUpdate"] == "2026-12-01T08:30:15Z"
    assert block["contentSpecificationIds"][0] == current_passport_context()
    assert block["dppSchemaVersion"].startswith("passport/v")


@pytest.mark.parametrize("status", ["active", "suspended", "revoked", "superseded", "ceased"])
def test_the_status_follows_the_passport(status: str) -> None:
    assert metadata(_facts(status=status))["dppStatus"] == status


def test_an_unknown_status_or_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        metadata(_facts(status="deleted"))
    with pytest.raises(ValueError):
        metadata(_facts(last_update=datetime(2026, 1, 1)))


def test_last_update_changes_with_every_version() -> None:
    first = metadata(_facts())
    second = metadata(_facts(last_update=ISSUED + timedelta(days=30)))
    assert first["lastUpdate"] != second["lastUpdate"]


def test_unknown_operator_and_facility_are_left_out_not_invented() -> None:
    block = metadata(_facts(economic_operator_id=None, facility_id=None))
    assert "economicOperatorId" not in block and "facilityId" not in block


def test_the_operator_is_the_eu_operator_else_the_manufacturer() -> None:
    assert en18223.economic_operator({"manufacturer_identifier": "M"}) == "M"
    both = {"manufacturer_identifier": "M", "operator_identifier": "EU-OP-1"}
    assert en18223.economic_operator(both) == "EU-OP-1"
    assert en18223.economic_operator({}) is None


def test_the_aas_carries_the_same_block() -> None:
    view = PassportView(
        _facts(economic_operator_id=None),
        "Z9ZPEN8K52S96AE740000319",
        frozenset({1}),
        {"manufacturer_identifier": "91350900MA8EXAMP1E", "battery_serial_number": "Z9Z"},
    )
    export = export_aas(view)
    document = json.loads(export.to_json())
    [dpp] = [s for s in document["submodels"] if s["idShort"] == "DppMetadata"]
    written = {e["idShort"]: e for e in dpp["submodelElements"]}
    block = export.metadata
    for name in ("digitalProductPassportId", "uniqueProductIdentifier", "granularity"):
        assert written[name]["value"] == block[name]
    assert written["economicOperatorId"]["value"] == "91350900MA8EXAMP1E"
    assert datetime.fromisoformat(written["lastUpdate"]["value"]) == ISSUED
    ids = [i["value"] for i in written["contentSpecificationIds"]["value"]]
    assert ids == block["contentSpecificationIds"]
    # The context, the mapping version and every IDTA template the file uses.
    assert ids[0] == current_passport_context()
    assert "https://w3id.org/cn-eu-battery/mappings/eu-passport-to-idta-02035/1.0.0" in ids
    assert (
        "https://admin-shell.io/idta/SubmodelTemplate/DigitalBatteryPassport/DigitalNameplate/1/0"
        in ids
    )
    assert "https://admin-shell.io/idta/SubmodelTemplate/dppMetadata/1/0" in ids
    shell = document["assetAdministrationShells"][0]
    assert shell["assetInformation"]["globalAssetId"] == PASSPORT


def test_a_measurement_date_is_its_first_instant_in_utc() -> None:
    assert measurement_time("2026-04-30") == datetime(2026, 4, 30, tzinfo=UTC)
    offset = measurement_time("2026-04-30T10:00:00+08:00")
    assert offset == datetime(2026, 4, 30, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        measurement_time("2026-04-30T10:00:00")


def test_the_measurement_time_is_read_unless_the_policy_kept_it() -> None:
    record = {"usage": {"as_of": "2026-04-30", "soc": "80"}}
    assert measured_at(record) == datetime(2026, 4, 30, tzinfo=UTC)
    assert measured_at(record, ["usage.soc"]) == datetime(2026, 4, 30, tzinfo=UTC)
    assert measured_at(record, ["usage.as_of"]) is None
    assert measured_at(record, ["usage"]) is None
    for broken in ({}, {"usage": {}}, {"usage": {"as_of": "April"}}, {"usage": "x"}):
        assert measured_at(broken) is None
    assert measured_at({"usage": {"as_of": "2026-04-30T10:00:00"}}) is None  # no offset


def test_the_block_reads_back_into_the_same_facts() -> None:
    facts = _facts(context=current_passport_context())
    block = metadata(facts)
    assert en18223.facts_from_block(block) == facts
    # As members of a passport document, beside its attributes.
    assert en18223.facts_from_block({"id": PASSPORT, "ratedCapacity": "150", **block}) == facts
    for broken in (
        {**block, "dppStatus": "deleted"},
        {**block, "lastUpdate": "2026-12-01T08:30:15"},
        {k: v for k, v in block.items() if k != "uniqueProductIdentifier"},
        {k: v for k, v in block.items() if k != "lastUpdate"},
    ):
        with pytest.raises(ValueError):
            en18223.facts_from_block(broken)


def test_the_facility_is_the_plant_the_record_names() -> None:
    plant = {"manufacturer": {"plant": {"facility_id": "CN-FJ-ND-002"}}}
    assert en18223.facility_id(plant) == "CN-FJ-ND-002"
    for none in (
        {},
        {"manufacturer": {"plant": {}}},
        {"manufacturer": "x"},
        {"manufacturer": {"plant": {"facility_id": " "}}},
    ):
        assert en18223.facility_id(none) is None
