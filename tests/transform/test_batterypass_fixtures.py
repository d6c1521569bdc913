"""The Battery Pass 1.2 projection of every fixture record: how many aspects each writes,
what keeps the others out, and how the record's structure (addresses, the parts its EU
supplement gives, the time of measurement) reaches the payloads.

The independent references: the consortium's JSON schemas, read here straight from
``vocab/batterypass/`` with ``jsonschema`` (not through the export's own validator), and
the CAS Registry Number check digit (CAS, "Check Digit Verification of CAS Registry
Numbers").
"""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from gateway.annex_xiii import ALL_SECTIONS, SECTIONS
from gateway.errors import InvalidRecord
from gateway.paths import FIXTURES_DIR, ROOT, VOCAB_DIR
from gateway.records.reader import read_record, read_record_file
from gateway.services import draft_passport
from gateway.transform.batterypass import (
    ASPECTS,
    addresses_of,
    details_of,
    export,
    measurement_times,
)
from gateway.transform.measurements import measured_at
from tests.helpers import covering_everything

BASE_URL = "https://passports.example.com"
MAPPING = "cn-trace-to-eu-passport@1.0.0"
ISSUED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RECORDS = sorted(p for p in (FIXTURES_DIR / "records").iterdir() if p.suffix in {".json", ".xml"})
NCM = FIXTURES_DIR / "records" / "ncm-ev-pack.json"
NCM_ASPECTS = {
    "SupplyChainDueDiligence",
    "CarbonFootprint",
    "Labels",
    "MaterialComposition",
    "Circularity",
}
#: Aspects each fixture writes with every section, an export approval covering all BMS
#: data, its structured addresses, the parts its EU supplement gives and its time of
#: measurement. (Before the supplement's parts and the NCM pack's supplement data: the
#: NCM pack wrote SupplyChainDueDiligence only, the others none.) The other fixtures'
#: records give no due diligence report, carbon footprint or label data.
WRITTEN = {"ncm-ev-pack.json": NCM_ASPECTS, "ncm-ev-pack.xml": NCM_ASPECTS}


def _draft(record: dict[str, Any]) -> Any:
    return draft_passport(
        record, mapping=MAPPING, base_url=BASE_URL, approvals=[covering_everything()], at=ISSUED
    )


def _projection(
    path: Path = NCM,
    record: dict[str, Any] | None = None,
    sections: tuple[str, ...] = SECTIONS,
    *,
    parts: bool = True,
    withheld: tuple[str, ...] = (),
) -> Any:
    record = record if record is not None else read_record_file(path)
    draft = _draft(record)
    held = (*draft.policy.withheld_paths, *withheld)
    return export(
        draft.conversion.attributes,
        sections=sections,
        measured_at=measured_at(record, held),
        addresses=addresses_of(draft.conversion, record),
        details=details_of(record, held) if parts else None,
    )


def _schema_errors(aspect: str, payload: dict[str, Any]) -> list[str]:
    path = VOCAB_DIR / "batterypass" / f"{aspect}.schema.json"
    validator = Draft4Validator(
        json.loads(path.read_text(encoding="utf-8")),
        format_checker=Draft4Validator.FORMAT_CHECKER,
    )
    return [e.message for e in validator.iter_errors(payload)]


def _cas_check_digit_ok(number: str) -> bool:
    # CAS: the check digit is the sum of each other digit times its position counted
    # from the right (1, 2, 3 ...), modulo 10.
    head, middle, check = number.split("-")
    digits = (head + middle)[::-1]
    return sum(i * int(d) for i, d in enumerate(digits, start=1)) % 10 == int(check)


# -- aspects written per fixture ----------------------------------------------------------


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.name)
def test_every_fixture_projects_with_any_sections_and_counts_its_aspects(path: Path) -> None:
    record = read_record_file(path)
    draft = _draft(record)
    held = draft.policy.withheld_paths
    for size in range(len(ALL_SECTIONS) + 1):
        for sections in itertools.combinations(ALL_SECTIONS, size):
            result = export(
                draft.conversion.attributes,
                sections=sections,
                measured_at=measured_at(record, held),
                addresses=addresses_of(draft.conversion, record),
                details=details_of(record, held),
            )
            assert set(result.payloads) | set(result.missing) == set(ASPECTS)
            for aspect, payload in result.payloads.items():
                assert _schema_errors(aspect, payload) == [], (sections, aspect)
    result = _projection(path)
    assert set(result.payloads) == WRITTEN.get(path.name, set())
    # Every aspect left out says exactly which required properties it lacks.
    assert all(result.missing[aspect] for aspect in set(ASPECTS) - set(result.payloads))


def test_the_ncm_pack_writes_five_of_seven_aspects_each_valid_against_its_schema() -> None:
    result = _projection()
    assert len(result.payloads) == 5
    assert {aspect: _schema_errors(aspect, p) for aspect, p in result.payloads.items()} == {
        aspect: [] for aspect in NCM_ASPECTS
    }
    # The public part alone: Labels needs the test reports (point 3), MaterialComposition
    # the detailed composition and Circularity the dismantling and spare-part data (point 2).
    public = _projection(sections=("annex-xiii-1",))
    assert set(public.payloads) == {"SupplyChainDueDiligence", "CarbonFootprint"}


@pytest.mark.parametrize(
    "version",
    sorted(
        p.name.removesuffix(".sssom.tsv")
        for p in (ROOT / "mappings" / "cn-trace-to-eu-passport").glob("*.sssom.tsv")
    ),
)
def test_every_published_mapping_version_gives_the_ncm_pack_its_five_aspects(version) -> None:
    record = read_record_file(NCM)
    draft = draft_passport(
        record,
        mapping=f"cn-trace-to-eu-passport@{version}",
        base_url=BASE_URL,
        approvals=[covering_everything()],
        at=ISSUED,
    )
    result = export(
        draft.conversion.attributes,
        sections=SECTIONS,
        measured_at=measurement_times(draft.conversion),
        addresses=addresses_of(draft.conversion, record),
        details=details_of(record, draft.policy.withheld_paths),
    )
    assert set(result.payloads) == NCM_ASPECTS


def test_the_xml_twin_projects_exactly_as_the_json_record() -> None:
    xml = _projection(FIXTURES_DIR / "records" / "ncm-ev-pack.xml")
    assert xml == _projection()


def test_what_keeps_the_ncm_pack_from_the_other_two_aspects() -> None:
    result = _projection()
    assert set(result.missing) == {"GeneralProductInformation", "Performance"}
    # No EU operator in the record; putting into service does not apply to EV batteries
    # (the catalog); warrentyPeriod is an xsd:gMonth (a month of the year).
    assert {
        "operatorInformation.identifier",
        "operatorInformation.contactName",
        "puttingIntoService",
        "warrentyPeriod",
    } <= set(result.missing["GeneralProductInformation"])
    # Battery Pass 1.2.1 units the catalog's values cannot honestly fill.
    assert {
        "batteryTechicalProperties.powerCapabilityRatio",
        "batteryTechicalProperties.originalPowerCapability[].powerCapabilityAt",
        "batteryCondition.remainingCapacity.remainingCapacityValue",
    } <= set(result.missing["Performance"])
    general = result.partial["GeneralProductInformation"]
    assert general["batteryPassportIdentifier"].startswith("urn:cneubattery:")
    assert general["manufacturingPlace"] == {
        "streetAddress": "6 Zhangwan Industrial Park",
        "postalCode": "352101",
        "addressCountry": "CN",
    }
    condition = result.partial["Performance"]["batteryCondition"]
    assert condition["stateOfCharge"] == {
        "stateOfChargeValue": 80,
        "lastUpdate": "2026-04-30T00:00:00Z",
    }


def test_two_test_reports_give_one_uri_and_a_note_not_an_error() -> None:
    result = _projection()
    labels = result.payloads["Labels"]
    assert labels["resultOfTestReport"] == (
        "https://battery.example.cn/reports/gb38031-md-ncm811-52.pdf"
    )
    [note] = result.rejected["Labels"]
    assert note.startswith("resultOfTestReport: test_reports_compliance 'https://")
    assert [label["labelingSubject"] for label in labels["labels"]] == [
        "SeparateCollection",
        "CarbonFootPrint",
    ]


def test_each_dynamic_value_carries_the_time_the_engine_found_for_it() -> None:
    record = read_record_file(NCM)
    draft = _draft(record)
    times = measurement_times(draft.conversion)
    assert times["state_of_charge"] == datetime(2026, 4, 30, tzinfo=UTC)
    assert "rated_capacity" not in times  # static values have none
    result = export(draft.conversion.attributes, sections=SECTIONS, measured_at=times)
    condition = result.partial["Performance"]["batteryCondition"]
    assert condition["stateOfCharge"]["lastUpdate"] == "2026-04-30T00:00:00Z"
    assert condition["numberOfFullCycles"]["lastUpdate"] == "2026-04-30T00:00:00Z"


# -- the values written ---------------------------------------------------------------------


def test_carbon_footprint_stages_are_the_shares_of_the_total() -> None:
    cf = _projection().payloads["CarbonFootprint"]
    assert cf["batteryCarbonFootprint"] == 0.047
    assert cf["absoluteCarbonFootprint"] == 4000
    # 0.047 kgCO2e/kWh x 62.5 %, 30.4 %, 1.6 %, 5.5 %
    assert cf["carbonFootprintPerLifecycleStage"] == [
        {"lifecycleStage": "RawMaterialExtraction", "carbonFootprint": 0.029375},
        {"lifecycleStage": "MainProduction", "carbonFootprint": 0.014288},
        {"lifecycleStage": "Distribution", "carbonFootprint": 0.000752},
        {"lifecycleStage": "Recycling", "carbonFootprint": 0.002585},
    ]


def test_material_composition_comes_from_the_supplement_parts() -> None:
    result = _projection()
    materials = result.payloads["MaterialComposition"]["batteryMaterials"]
    supplement = read_record_file(NCM)["eu_supplement"]
    assert len(materials) == len(supplement["battery_materials"]) == 12
    assert materials[0] == {
        "batteryMaterialLocation": {"componentName": "Cathode"},
        "batteryMaterialName": "Nickel",
        "batteryMaterialIdentifier": "7440-02-0",
        "batteryMaterialMass": 40500,
        "isCriticalRawMaterial": True,
    }
    assert all(_cas_check_digit_ok(m["batteryMaterialIdentifier"]) for m in materials)
    assert _cas_check_digit_ok(supplement["hazardous_substance_identifier"])
    # The catalog's list of critical raw materials names the materials flagged critical.
    listed = {name.strip() for name in supplement["critical_raw_materials"].split(",")}
    flagged = {m["batteryMaterialName"] for m in materials if m["isCriticalRawMaterial"]}
    assert flagged == listed
    # That list does not make elements of its own once the supplement gives them whole.
    assert result.rejected["MaterialComposition"] == [
        f"batteryMaterials[].batteryMaterialName: critical_raw_materials "
        f"{supplement['critical_raw_materials']!r} left out: the record's EU supplement "
        "gives each element of batteryMaterials whole"
    ]
    [substance] = result.payloads["MaterialComposition"]["hazardousSubstances"]
    assert substance["hazardousSubstanceIdentifier"] == "21324-40-3"
    assert substance["hazardousSubstanceLocation"] == {"componentName": "Electrolyte"}


def test_spare_part_suppliers_come_from_the_supplement_parts() -> None:
    result = _projection()
    sources = result.payloads["Circularity"]["sparePartSources"]
    assert sources[1] == {
        "nameOfSupplier": "Example Battery Service GmbH",
        "addressOfSupplier": {
            "streetAddress": "Hafenstrasse 12",
            "postalCode": "20457",
            "addressCountry": "DE",
        },
        "emailAddressOfSupplier": "parts@battery-service.example.de",
        "supplierWebAddress": "https://battery-service.example.de",
        "components": [
            {"partName": "Battery module 12S1P", "partNumber": "MD-M12S1P-150"},
            {"partName": "High-voltage main connector", "partNumber": "MD-HVC-400-01"},
            {"partName": "Pack lid seal", "partNumber": "MD-SEAL-1650-01"},
        ],
    }
    assert result.rejected["Circularity"] == [
        "sparePartSources[0].addressOfSupplier: spare_part_sources city and province left "
        "out: Battery Pass 1.2 addresses have no locality or region",
        "sparePartSources[1].addressOfSupplier: spare_part_sources city left out: Battery "
        "Pass 1.2 addresses have no locality or region",
    ]


# -- where the parts may go ---------------------------------------------------------------


def test_without_the_parts_the_ncm_pack_writes_three_aspects() -> None:
    result = _projection(parts=False)
    assert set(result.payloads) == {"SupplyChainDueDiligence", "CarbonFootprint", "Labels"}
    assert "sparePartSources[].nameOfSupplier" in result.missing["Circularity"]
    assert "batteryMaterials[0].batteryMaterialIdentifier" in result.missing["MaterialComposition"]


def test_parts_go_out_only_with_the_point_of_the_attribute_they_detail() -> None:
    # Point 1 gives the critical raw materials, not the composition (point 2): the flags
    # alone, no material names, CAS numbers or masses.
    public = _projection(sections=("annex-xiii-1",))
    materials = public.partial["MaterialComposition"]["batteryMaterials"]
    assert all(set(m) == {"isCriticalRawMaterial"} for m in materials)
    assert "sparePartSources" not in public.partial["Circularity"]


def test_parts_go_out_only_when_the_passport_states_what_they_detail() -> None:
    record = read_record_file(NCM)
    del record["eu_supplement"]["spare_part_sources"]
    del record["eu_supplement"]["component_part_numbers"]
    result = _projection(record=record)
    assert "Circularity" not in result.payloads
    assert "sparePartSources" not in result.partial["Circularity"]


def test_parts_the_data_policy_keeps_home_stay_home() -> None:
    record = read_record_file(NCM)
    assert "spare_part_suppliers" not in details_of(record, ("eu_supplement.spare_part_suppliers",))
    assert details_of(record, ("eu_supplement",)) == {}
    kept = details_of(record, ("eu_supplement.spare_part_suppliers.email",))
    assert all("email" not in s for s in kept["spare_part_suppliers"])
    result = _projection(withheld=("eu_supplement.spare_part_suppliers.email",))
    assert "sparePartSources[0].emailAddressOfSupplier" in result.missing["Circularity"]
    assert "parts@" not in json.dumps(result.partial)


def test_an_address_is_taken_only_as_the_passport_states_it() -> None:
    record = read_record_file(NCM)
    draft = _draft(record)
    found = addresses_of(draft.conversion, record)
    assert found["manufacturing_place"] == {
        "street": "6 Zhangwan Industrial Park",
        "city": "Ningde",
        "province": "Fujian",
        "postal_code": "352101",
        "country": "CN",
    }
    assert set(found) == {"manufacturer_postal_address", "manufacturing_place"}
    # A record that does not give exactly the exported line (another record, or a part
    # the data policy kept in China) gives no structure for it.
    other = copy.deepcopy(record)
    other["manufacturer"]["plant"]["address"]["street"] = "1 Elsewhere Road"
    assert set(addresses_of(draft.conversion, other)) == {"manufacturer_postal_address"}
    del other["manufacturer"]["address"]
    assert addresses_of(draft.conversion, other) == {}


# -- the supplement's parts in the record model ---------------------------------------------


def _with_material(material: dict[str, Any]) -> bytes:
    record = json.loads(NCM.read_text(encoding="utf-8"))
    record["eu_supplement"]["battery_materials"] = [material]
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    ("material", "pointer"),
    [
        ({"component": "Cathode", "name": "Nickel", "cas": "7440-02"}, "/cas"),
        ({"component": "Cathode", "name": "Nickel", "mass_g": "-5"}, "/mass_g"),
        ({"component": "Cathode", "name": "Nickel", "critical_raw_material": "yes"}, "/critical"),
        ({"component": "Cathode", "name": "Nickel", "share": "12"}, "/share"),
        ({"name": "Nickel"}, "/component"),
    ],
)
def test_malformed_parts_are_refused_naming_the_field(material: dict, pointer: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        read_record(_with_material(material), "application/json")
    pointers = [e["pointer"] for e in caught.value.extensions["errors"]]
    assert any(p.startswith(f"/eu_supplement/battery_materials/0{pointer}") for p in pointers), (
        pointers
    )


def test_parts_are_not_catalog_keys_and_other_unknown_members_stay_refused() -> None:
    record = json.loads(NCM.read_text(encoding="utf-8"))
    record["eu_supplement"]["battery_parts"] = []
    with pytest.raises(InvalidRecord) as caught:
        read_record(json.dumps(record).encode(), "application/json")
    assert [e["pointer"] for e in caught.value.extensions["errors"]] == [
        "/eu_supplement/battery_parts"
    ]


@pytest.mark.parametrize(
    ("old", "new", "pointer", "message"),
    [
        (b"<material>", b"<stuff>", "/battery_materials", "must hold <material> elements"),
        (b"<battery_materials>", b"<battery_materials>text", "/battery_materials", "must hold"),
        (
            b"<critical_raw_material>true<",
            b"<critical_raw_material>yes<",
            "/battery_materials/material/critical_raw_material",
            "must be true or false",
        ),
        (b"<cas>7440-02-0</cas>", b"<cas>7440020</cas>", "/battery_materials/material/cas", "CAS"),
    ],
)
def test_malformed_parts_in_xml_are_refused_naming_the_element(
    old: bytes, new: bytes, pointer: str, message: str
) -> None:
    document = (FIXTURES_DIR / "records" / "ncm-ev-pack.xml").read_bytes()
    if old == b"<material>":  # rename one whole item element
        document = document.replace(b"</material>", b"</stuff>", 1)
    with pytest.raises(InvalidRecord) as caught:
        read_record(document.replace(old, new, 1), "application/xml")
    [problem] = caught.value.extensions["errors"]
    assert problem["pointer"] == f"/record/eu_supplement{pointer}"
    assert message in problem["message"]
