"""Battery Pass 1.2 export: the copied schemas, the projection table and the payloads.

The independent references are the Battery Pass consortium's own schemas and example
payloads (``vocab/batterypass/``, ``fixtures/batterypass/``) and the catalog's
``batterypass_paths`` column, which was extracted from the SAMM models separately.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from jsonschema import Draft4Validator

from gateway.annex_xiii import ALL_SECTIONS, SECTIONS
from gateway.errors import ConfigError, TransformError
from gateway.paths import FIXTURES_DIR, ROOT
from gateway.transform import batterypass as bp
from gateway.transform import batterypass_table as bp_table
from gateway.vocab.catalog import load_catalog

EXAMPLES = FIXTURES_DIR / "batterypass"
CAS_DEFECT = (
    "upstream example gives the CAS number '7439-93-2 ' with a trailing space, "
    "which fails the schema's own pattern"
)


def _example(aspect: str) -> dict:
    return json.loads((EXAMPLES / f"{aspect}.example.json").read_text(encoding="utf-8"))


# -- the copied schemas and examples -----------------------------------------------------


@pytest.mark.parametrize(
    "aspect",
    [
        pytest.param(a, marks=pytest.mark.xfail(strict=True, reason=CAS_DEFECT))
        if a == "MaterialComposition"
        else a
        for a in bp.ASPECTS
    ],
)
def test_example_payload_validates_against_its_schema(aspect: str) -> None:
    assert bp.validate({aspect: _example(aspect)}) == {aspect: []}


def test_material_composition_example_fails_only_on_the_known_cas_defect() -> None:
    example = _example("MaterialComposition")
    errors = bp.validate({"MaterialComposition": example})["MaterialComposition"]
    assert errors == [
        "$.batteryMaterials[0].batteryMaterialIdentifier: '7439-93-2 ' does not match "
        "'^\\\\d{2,7}-\\\\d{2}-\\\\d{1}$'"
    ]
    example["batteryMaterials"][0]["batteryMaterialIdentifier"] = "7439-93-2"
    assert bp.validate({"MaterialComposition": example}) == {"MaterialComposition": []}


@pytest.mark.parametrize("aspect", bp.ASPECTS)
def test_schema_is_draft4_and_names_the_model_of_its_aspect(aspect: str) -> None:
    table = bp.projection()
    schema = table.schemas[aspect]
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema"
    assert schema["x-samm-aspect-model-urn"] == table.models[aspect]
    Draft4Validator.check_schema(schema)


def test_format_checking_is_active() -> None:
    # Without the rfc3987 package jsonschema skips "uri" silently; the export relies on it.
    assert {"uri", "date-time"} <= set(Draft4Validator.FORMAT_CHECKER.checkers)
    errors = bp.validate({"SupplyChainDueDiligence": {"supplyChainDueDiligenceReport": "a b"}})
    assert errors["SupplyChainDueDiligence"] == [
        "$.supplyChainDueDiligenceReport: 'a b' is not a 'uri'"
    ]


def test_validate_reports_readable_errors_and_refuses_unknown_aspects() -> None:
    payload = _example("CarbonFootprint")
    payload["batteryCarbonFootprint"] = "61.3"
    del payload["carbonFootprintStudy"]
    assert bp.validate({"CarbonFootprint": payload})["CarbonFootprint"] == [
        "$: 'carbonFootprintStudy' is a required property",
        "$.batteryCarbonFootprint: '61.3' is not of type 'number'",
    ]
    with pytest.raises(TransformError, match="not a Battery Pass aspect"):
        bp.validate({"Nameplate": {}})


# -- the projection table against the catalog ---------------------------------------------


def _covered_paths() -> dict[str, set[str]]:
    covered: dict[str, set[str]] = {}
    table = bp.projection()
    for rule in table.rules:
        paths = covered.setdefault(rule.key, set())
        paths.add(f"{rule.aspect}:{rule.path}")
        if rule.stamp:
            paths.add(f"{rule.aspect}:{rule.stamp}")
        array = rule.path.rsplit("[].", 1)[0]
        paths.update(f"{rule.aspect}:{array}[].{name}" for name in rule.constants)
    for entry in table.unprojectable:
        if entry.key:
            covered.setdefault(entry.key, set()).update(
                f"{entry.aspect}:{path}" for path in entry.paths
            )
    return covered


def test_every_catalog_batterypass_path_is_projected_or_explained() -> None:
    covered = _covered_paths()
    uncovered = [
        f"{a.key} -> {path}"
        for a in load_catalog()
        for path in a.batterypass_paths
        if path not in covered.get(a.key, set())
    ]
    assert uncovered == []


def test_every_rule_targets_a_path_the_catalog_names_for_its_attribute() -> None:
    catalog = load_catalog()

    def element(path: str) -> str:
        return path.split("[].", 1)[0]

    # The parts the EU supplement gives of an attribute fill the array elements the
    # catalog names for it (a supplier's postal code and country, beside its street).
    stray = [
        f"{rule.key} -> {rule.aspect}:{rule.path}"
        for rule in bp.projection().rules
        if f"{rule.aspect}:{rule.path}" not in catalog.by_key[rule.key].batterypass_paths
        and not (
            rule.detail
            and any(
                element(p) == f"{rule.aspect}:{element(rule.path)}"
                for p in catalog.by_key[rule.key].batterypass_paths
            )
        )
    ]
    assert stray == []


def test_a_broken_table_is_refused(tmp_path) -> None:
    table = json.loads(bp_table.PROJECTION_PATH.read_text(encoding="utf-8"))
    table["rules"][0]["path"] = "batteryPassportIdentifer"
    broken = tmp_path / "projection.json"
    broken.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"/rules/0: path 'batteryPassportIdentifer'"):
        bp_table.load_projection(broken)


# -- projection -----------------------------------------------------------------------------

#: Plausible values for every catalog attribute, as the transform engine hands them over.
RICH: dict[str, object] = {
    "battery_passport_id": "https://passports.example.eu/p/4A6PCPM27KLPCLE742946319",
    "battery_unique_identifier": "4A6PCPM27KLPCLE742946319",
    "battery_model_identifier": "CX-NCM-75",
    "battery_batch_number": "B2024-07-04-01",
    "battery_serial_number": "4A6PCPM27KLPCLE742946319",
    "operator_identifier": "EORI-DE123456789012345",
    "manufacturer_identifier": "91350900MA2XXXXXX1",
    "manufacturer_name": "Example Battery Co., Ltd.",
    "manufacturer_trade_name": "Example",
    "manufacturer_postal_address": "1 Example Road, Ningde, Fujian, 352100, CN",
    "manufacturer_web_address": "https://battery.example.cn",
    "manufacturer_email": "passport@battery.example.cn",
    "manufacturing_place": "3 Factory Road, Ningde, Fujian, 352100, CN",
    "manufacturing_date": "2024-07",
    "putting_into_service_date": "2024-08",
    "warranty_period": "2032-07",
    "battery_category": "electric vehicle battery",
    "battery_mass": "350",
    "battery_status": "re-used",
    "separate_collection_symbol": "https://battery.example.cn/labels/wee-bin.svg",
    "cadmium_lead_symbols": "https://battery.example.cn/labels/pb.svg",
    "carbon_footprint_label": "https://battery.example.cn/labels/cf.svg",
    "extinguishing_agent": ["water", "ABC dry powder"],
    "meaning_of_labels": "The crossed-out bin: collect separately. Pb: contains lead.",
    "eu_declaration_of_conformity": "https://battery.example.cn/doc/eu-doc.pdf",
    "test_reports_compliance": "https://battery.example.cn/doc/test-reports.pdf",
    "carbon_footprint_per_fu": "61.3",
    "cf_share_raw_material": "40",
    "cf_share_main_production": "35.5",
    "cf_share_distribution": "4.5",
    "cf_share_end_of_life": "20",
    "cf_performance_class": "B",
    "cf_study_link": "https://battery.example.cn/doc/cf-study.pdf",
    "cf_general_battery_manufacturer_info": "see manufacturer attributes",
    "absolute_carbon_footprint": 4,
    "due_diligence_report": "https://battery.example.cn/doc/due-diligence.pdf",
    "third_party_assurances": "https://battery.example.cn/doc/rmi-audit.pdf",
    "supply_chain_indices": "72.5",
    "battery_chemistry": "NCM811",
    "critical_raw_materials": ["Cobalt", "Lithium", "Natural graphite"],
    "detailed_composition_cathode_anode_electrolyte": "cathode: LiNi0.8Co0.1Mn0.1O2",
    "hazardous_substances": ["Lithium hexafluorophosphate", "Ethylene carbonate"],
    "hazardous_substance_identifier": ["21324-40-3", "96-49-1"],
    "hazardous_substance_class": ["AcuteToxicity", "EyeDamageOrIrritation"],
    "hazardous_substance_concentration": ["1.2", "0.8"],
    "hazardous_substance_location": ["Electrolyte", "Electrolyte"],
    "impact_of_substances": ["H301 Toxic if swallowed", "H319 Causes eye irritation"],
    "dismantling_information": ["https://battery.example.cn/doc/dismantling.pdf"],
    "component_part_numbers": "https://battery.example.cn/parts",
    "spare_part_sources": "https://battery.example.cn/spares",
    "safety_measures": "https://battery.example.cn/doc/safety.pdf",
    "recycled_nickel_pre_consumer_share": "4.5",
    "recycled_cobalt_pre_consumer_share": "8",
    "recycled_lithium_pre_consumer_share": "2.25",
    "recycled_lead_pre_consumer_share": "0",
    "recycled_nickel_post_consumer_share": "3.5",
    "recycled_cobalt_post_consumer_share": "6",
    "recycled_lithium_post_consumer_share": "1",
    "recycled_lead_post_consumer_share": "0",
    "renewable_content_share": "12.5",
    "eol_waste_prevention_info": "https://battery.example.cn/eol/prevention",
    "eol_separate_collection_info": "https://battery.example.cn/eol/collection",
    "eol_collection_treatment_info": "https://battery.example.cn/eol/treatment",
    "rated_capacity": "150",
    "remaining_capacity": "141.5",
    "capacity_fade": "5.7",
    "certified_usable_battery_energy": "52.56",
    "remaining_usable_battery_energy": "49.6",
    "state_of_certified_energy": "94.4",
    "state_of_health": "94.3",
    "state_of_charge": "62",
    "minimum_voltage": "280",
    "maximum_voltage": "403.2",
    "nominal_voltage": "350.4",
    "original_power_capability": "150000",
    "remaining_power_capability": "141000",
    "power_fade": "6",
    "maximum_permitted_battery_power": "180000",
    "power_to_energy_ratio": "2.854",
    "initial_round_trip_efficiency": "95.2",
    "round_trip_efficiency_50pct_cycle_life": "92.1",
    "remaining_round_trip_efficiency": "93.8",
    "round_trip_efficiency_fade": "1.5",
    "initial_self_discharge_rate": "2.5",
    "current_self_discharge_rate": "2.9",
    "evolution_of_self_discharge": "16",
    "initial_internal_resistance_pack": "0.085",
    "initial_internal_resistance_cell": "0.0007",
    "initial_internal_resistance_module": "0.012",
    "internal_resistance_increase_pack": "8.2",
    "internal_resistance_increase_cell": "7.9",
    "internal_resistance_increase_module": "8",
    "current_internal_resistance": "0.092",
    "expected_lifetime_years": "10",
    "expected_lifetime_cycles": 3000,
    "number_of_full_cycles": 412,
    "cycle_life_reference_test": "https://webstore.iec.ch/publication/62660-1",
    "c_rate_cycle_life_test": "0.33",
    "depth_of_discharge_cycle_life_test": "80",
    "energy_throughput": "21640.5",
    "capacity_throughput": "61800",
    "capacity_threshold_for_exhaustion": "70",
    "temperature_information": "35",
    "idle_temperature_lower": "-30",
    "idle_temperature_upper": "60",
    "time_extreme_temp_above": 42,
    "time_extreme_temp_below": 0,
    "time_charging_extreme_temp_above": 5,
    "time_charging_extreme_temp_below": 0,
    "deep_discharge_events": 0,
    "overcharge_events": 1,
    "information_on_accidents": ["2025-02-10 module over-temperature alarm"],
    "data_carrier": "QR code on the pack housing",
    "predecessor_passport_id": "https://passports.example.eu/p/4A6PCPM27KLPCLE742946300",
    "passport_version": "1.0.0",
    "passport_status": "active",
    "passport_backup_reference": "https://backup.example.eu/p/4A6PCPM27KLPCLE742946319",
    "placed_on_market_date": "2024-09-15",
    "physical_dimensions": "1650",
}


#: The structured addresses behind RICH's two address lines, as the record holds them.
RICH_ADDRESSES = {
    "manufacturer_postal_address": {
        "street": "1 Example Road",
        "city": "Ningde",
        "province": "Fujian",
        "postal_code": "352100",
        "country": "CN",
    },
    "manufacturing_place": {"street": "3 Factory Road", "postal_code": "352100", "country": "CN"},
}
#: The parts RICH's EU supplement gives of its composition and spare-part sources.
RICH_DETAILS = {
    "battery_materials": [
        {
            "component": "Cathode",
            "name": "Cobalt",
            "cas": "7440-48-4",
            "mass_g": "5090",
            "critical_raw_material": True,
        },
        {
            "component": "Electrolyte",
            "name": "Ethylene carbonate",
            "cas": "96-49-1",
            "mass_g": "4300.5",
            "critical_raw_material": False,
        },
    ],
    "spare_part_suppliers": [
        {
            "name": "Example Battery Service GmbH",
            "address": {"street": "Hafenstrasse 12", "postal_code": "20457", "country": "DE"},
            "email": "parts@battery-service.example.de",
            "web": "https://battery-service.example.de",
            "parts": [{"name": "Battery module", "part_number": "M-12"}],
        }
    ],
}
MEASURED = datetime(2026, 4, 30, tzinfo=UTC)
EMAIL_DEFECT = (
    "manufacturerInformation.emailAddress: manufacturer_email "
    "'passport@battery.example.cn' left out: 'passport@battery.example.cn' does "
    "not match '^[w.-]+@[w.-]+.[A-Za-z]{2,}$'"
)


def test_rich_attributes_cover_the_catalog() -> None:
    assert set(RICH) == {a.key for a in load_catalog()}


def test_rich_public_part_exports_only_valid_aspects() -> None:
    result = bp.export(RICH, addresses=RICH_ADDRESSES)
    assert set(result.payloads) == {"CarbonFootprint", "SupplyChainDueDiligence"}
    assert bp.validate(result.payloads) == {a: [] for a in result.payloads}
    assert set(result.payloads) | set(result.missing) == set(bp.ASPECTS)
    assert not set(result.payloads) & set(result.missing)
    # Well-formed passport data that Battery Pass 1.2 cannot carry: an e-mail address
    # (the schema's pattern lost a backslash) and the city and province of an address.
    assert result.rejected == {
        "GeneralProductInformation": [
            EMAIL_DEFECT,
            "manufacturerInformation.postalAddress: manufacturer_postal_address city and "
            "province left out: Battery Pass 1.2 addresses have no locality or region",
        ]
    }
    general = result.partial["GeneralProductInformation"]
    assert general["manufacturerInformation"]["postalAddress"] == {
        "streetAddress": "1 Example Road",
        "postalCode": "352100",
        "addressCountry": "CN",
    }
    assert general["manufacturingPlace"] == {
        "streetAddress": "3 Factory Road",
        "postalCode": "352100",
        "addressCountry": "CN",
    }


def test_the_passport_id_travels_as_its_urn_alias() -> None:
    general = bp.export(RICH).partial["GeneralProductInformation"]
    alias = general["batteryPassportIdentifier"]
    assert alias == bp.urn_alias(str(RICH["battery_passport_id"]))
    assert re.fullmatch(r"urn:[a-z0-9]+:[a-z0-9]+", alias)
    # Anyone holding the id can check the alias; another id has another alias.
    digest = hashlib.sha256(str(RICH["battery_passport_id"]).encode()).hexdigest()
    assert alias == f"urn:cneubattery:{digest[:40]}"
    assert bp.urn_alias(str(RICH["predecessor_passport_id"])) != alias


def test_an_address_without_its_structure_is_reported_not_split() -> None:
    result = bp.export(RICH)
    notes = result.rejected["GeneralProductInformation"]
    for path in ("streetAddress", "postalCode", "addressCountry"):
        assert any(
            n.startswith(
                f"manufacturerInformation.postalAddress.{path}: manufacturer_postal_address "
            )
            and "the record's structured address was not given" in n
            for n in notes
        ), path
    assert "postalAddress" not in result.partial["GeneralProductInformation"].get(
        "manufacturerInformation", {}
    )
    partial = {"manufacturing_place": {"street": "3 Factory Road", "country": "CN"}}
    notes = bp.export(RICH, addresses=partial).rejected["GeneralProductInformation"]
    assert any(
        n.startswith("manufacturingPlace.postalCode: manufacturing_place ")
        and n.endswith("the structured address has no postal code")
        for n in notes
    )


def test_dynamic_values_carry_the_time_they_were_measured() -> None:
    stamped = bp.export(RICH, sections=SECTIONS, measured_at=MEASURED).partial["Performance"]
    condition = stamped["batteryCondition"]
    assert condition["stateOfCharge"] == {
        "stateOfChargeValue": 62,
        "lastUpdate": "2026-04-30T00:00:00Z",
    }
    assert condition["temperatureInformation"]["lastUpdate"] == "2026-04-30T00:00:00Z"
    assert all(e["lastUpdate"] == "2026-04-30T00:00:00Z" for e in condition["negativeEvents"])
    assert [e["batteryComponent"] for e in condition["internalResistanceIncrease"]] == [
        "pack",
        "module",
        "cell",
    ]
    assert all(
        e["lastUpdate"] == "2026-04-30T00:00:00Z" for e in condition["internalResistanceIncrease"]
    )
    assert "lastUpdate" not in stamped["batteryTechicalProperties"]  # static values
    # An offset is kept as the same instant in UTC.
    east = datetime(2026, 4, 30, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    later = bp.export(RICH, sections=SECTIONS, measured_at=east).partial["Performance"]
    assert later["batteryCondition"]["stateOfCharge"]["lastUpdate"] == "2026-04-30T00:00:00Z"
    # Without the time, each value says its lastUpdate is left out, and why.
    notes = bp.export(RICH, sections=SECTIONS).rejected["Performance"]
    assert (
        "batteryCondition.stateOfCharge.lastUpdate: state_of_charge lastUpdate left out: "
        "the record states no time of measurement (usage.as_of)" in notes
    )
    with pytest.raises(TransformError):
        bp.export(RICH, measured_at=datetime(2026, 4, 30))


def test_each_dynamic_value_may_carry_its_own_time_of_measurement() -> None:
    later = datetime(2026, 5, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    times = {"state_of_charge": MEASURED, "number_of_full_cycles": later}
    condition = bp.export(RICH, sections=SECTIONS, measured_at=times).partial["Performance"][
        "batteryCondition"
    ]
    assert condition["stateOfCharge"]["lastUpdate"] == "2026-04-30T00:00:00Z"
    assert condition["numberOfFullCycles"]["lastUpdate"] == "2026-05-02T01:30:00Z"
    assert "lastUpdate" not in condition["capacityFade"]  # no time given for it
    with pytest.raises(TransformError):
        bp.export(RICH, measured_at={"state_of_charge": datetime(2026, 4, 30)})


def test_several_values_for_one_property_are_joined_or_the_first_uri_is_kept() -> None:
    reports = ["https://lab.example/r1.pdf", "https://lab.example/r2.pdf"]
    result = bp.export({**RICH, "test_reports_compliance": reports}, sections=SECTIONS)
    assert result.payloads["Labels"]["resultOfTestReport"] == reports[0]
    assert result.rejected["Labels"] == [
        f"resultOfTestReport: test_reports_compliance {reports[1]!r} left out: the property "
        "holds one URI; the first given is written"
    ]
    names = ["Mindong Power", "Mindong Example Power Battery"]
    general = bp.export({**RICH, "manufacturer_name": names}).partial["GeneralProductInformation"]
    assert (
        general["manufacturerInformation"]["contactName"]
        == "Mindong Power; Mindong Example Power Battery"
    )


def test_rich_passport_with_every_group_exports_only_valid_aspects() -> None:
    result = bp.export(RICH, sections=SECTIONS)
    assert set(result.payloads) == {"CarbonFootprint", "SupplyChainDueDiligence", "Labels"}
    assert bp.validate(result.payloads) == {a: [] for a in result.payloads}
    labels = result.payloads["Labels"]
    assert labels["resultOfTestReport"] == RICH["test_reports_compliance"]
    assert [label["labelingSubject"] for label in labels["labels"]] == [
        "SeparateCollection",
        "HazardousMaterial",
        "CarbonFootPrint",
    ]
    assert all(
        label["labelingMeaning"] == {"en": RICH["meaning_of_labels"]} for label in labels["labels"]
    )


def test_the_supplement_parts_complete_material_composition_and_circularity() -> None:
    result = bp.export(RICH, sections=SECTIONS, details=RICH_DETAILS)
    assert set(result.payloads) == {
        "CarbonFootprint",
        "SupplyChainDueDiligence",
        "Labels",
        "MaterialComposition",
        "Circularity",
    }
    assert bp.validate(result.payloads) == {a: [] for a in result.payloads}
    materials = result.payloads["MaterialComposition"]["batteryMaterials"]
    assert materials[1] == {
        "batteryMaterialLocation": {"componentName": "Electrolyte"},
        "batteryMaterialName": "Ethylene carbonate",
        "batteryMaterialIdentifier": "96-49-1",
        "batteryMaterialMass": 4300.5,
        "isCriticalRawMaterial": False,
    }
    [source] = result.payloads["Circularity"]["sparePartSources"]
    assert source["components"] == [{"partName": "Battery module", "partNumber": "M-12"}]
    assert source["addressOfSupplier"] == {
        "streetAddress": "Hafenstrasse 12",
        "postalCode": "20457",
        "addressCountry": "DE",
    }


def test_a_part_the_schema_cannot_carry_is_reported_and_a_wrong_kind_refused() -> None:
    details = copy.deepcopy(RICH_DETAILS)
    details["battery_materials"][0]["cas"] = "7440-48"
    result = bp.export(RICH, sections=SECTIONS, details=details)
    assert "batteryMaterials[0].batteryMaterialIdentifier" in result.missing["MaterialComposition"]
    assert any(
        n.startswith(
            "batteryMaterials[0].batteryMaterialIdentifier: "
            "detailed_composition_cathode_anode_electrolyte '7440-48' left out: "
        )
        for n in result.rejected["MaterialComposition"]
    )
    details["battery_materials"][0]["critical_raw_material"] = "yes"
    with pytest.raises(TransformError) as caught:
        bp.export(RICH, sections=SECTIONS, details=details)
    assert caught.value.pointer == "/critical_raw_materials"


def test_a_detail_rule_names_its_member_and_fills_one_element_per_item(tmp_path) -> None:
    table = json.loads(bp_table.PROJECTION_PATH.read_text(encoding="utf-8"))
    [index] = [
        i for i, r in enumerate(table["rules"]) if r.get("detail") == "battery_materials.name"
    ]
    for change in ({"detail": "battery_materials"}, {"each": "element"}):
        broken = copy.deepcopy(table)
        broken["rules"][index].update(change)
        path = tmp_path / "projection.json"
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(ConfigError, match=rf"/rules/{index}: "):
            bp_table.load_projection(path)


def test_what_blocks_the_rich_passport_is_what_the_table_calls_unprojectable() -> None:
    result = bp.export(RICH, sections=SECTIONS)
    unprojectable = {
        f"{e.aspect}:{path}" for e in bp.projection().unprojectable for path in e.paths
    }
    rejected_paths = {
        f"{aspect}:{note.split(':', 1)[0]}"
        for aspect, notes in result.rejected.items()
        for note in notes
    }

    def generic(path: str) -> str:
        # "a[recycledMaterial=Nickel].b" and "a[0].b" name elements of "a[].b".
        return re.sub(r"\[[^\]]+\]", "[]", path)

    unexplained = [
        f"{aspect}:{path}"
        for aspect, paths in result.missing.items()
        for path in paths
        if generic(f"{aspect}:{path}") not in unprojectable | {generic(p) for p in rejected_paths}
    ]
    assert unexplained == []


@pytest.mark.parametrize("details", [None, RICH_DETAILS], ids=["attributes", "with-parts"])
def test_every_rule_lands_its_value_or_says_why_not(details) -> None:
    result = bp.export(RICH, sections=SECTIONS, details=details)
    built = {**result.partial, **result.payloads}

    def values_at(node: object, steps: list[str]) -> list[object]:
        if not steps:
            return [node]
        step, *rest = steps
        name = step.removesuffix("[]")
        if not isinstance(node, dict) or name not in node:
            return []
        child = node[name]
        if step.endswith("[]"):
            return [v for element in child for v in values_at(element, rest)]
        return values_at(child, rest)

    silent = []
    for rule in bp.projection().rules:
        if rule.member and details is None:
            continue  # the parts of an attribute come only with the record's supplement
        landed = values_at(built[rule.aspect], rule.path.split("."))
        noted = any(
            note.split(":", 1)[1].lstrip().startswith(rule.key + " ")
            for note in result.rejected.get(rule.aspect, [])
        )
        if not landed and not noted:
            silent.append(f"{rule.key} -> {rule.aspect}:{rule.path}")
    assert silent == []


def test_round_trip_of_values() -> None:
    result = bp.export(RICH)
    performance = result.partial["Performance"]["batteryTechicalProperties"]
    assert performance["ratedCapacity"] == 150
    assert isinstance(performance["ratedCapacity"], int)
    assert performance["nominalVoltage"] == 350.4
    assert performance["ratedMaximumPower"] == 180  # W in the catalog, kW in Battery Pass
    assert performance["temperatureRangeIdleState"] == {"minimum": -30, "maximum": 60}
    assert performance["initialInternalResistance"] == [
        {"batteryComponent": "pack", "ohmicResistance": 0.085},
        {"batteryComponent": "module", "ohmicResistance": 0.012},
        {"batteryComponent": "cell", "ohmicResistance": 0.0007},
    ]
    assert "batteryCondition" not in result.partial["Performance"]  # not public
    general = result.partial["GeneralProductInformation"]
    assert general["batteryCategory"] == "ev"
    assert general["manufacturingDate"] == "2024-07-01T00:00:00Z"
    assert general["batteryMass"] == 350
    assert "batteryStatus" not in general  # Annex XIII 4(c): legitimate interest only
    cf = result.payloads["CarbonFootprint"]
    assert cf["batteryCarbonFootprint"] == 61.3
    assert cf["absoluteCarbonFootprint"] == 4000  # tCO2e in the catalog, kg in Battery Pass
    # Shares in % of the total become kgCO2e/kWh per stage, exactly.
    assert cf["carbonFootprintPerLifecycleStage"] == [
        {"lifecycleStage": "RawMaterialExtraction", "carbonFootprint": 24.52},
        {"lifecycleStage": "MainProduction", "carbonFootprint": 21.7615},
        {"lifecycleStage": "Distribution", "carbonFootprint": 2.7585},
        {"lifecycleStage": "Recycling", "carbonFootprint": 12.26},
    ]
    circularity = result.partial["Circularity"]
    assert circularity["recycledContent"][0] == {
        "recycledMaterial": "Nickel",
        "preConsumerShare": 4.5,
        "postConsumerShare": 3.5,
    }
    assert circularity["safetyMeasures"] == {"extinguishingAgent": ["water", "ABC dry powder"]}
    substances = result.partial["MaterialComposition"]["hazardousSubstances"]
    assert substances[1] == {
        "hazardousSubstanceName": "Ethylene carbonate",
        "hazardousSubstanceIdentifier": "96-49-1",
        "hazardousSubstanceClass": "EyeDamageOrIrritation",
        "hazardousSubstanceConcentration": 0.8,
        "hazardousSubstanceLocation": {"componentName": "Electrolyte"},
        "hazardousSubstanceImpact": ["H319 Causes eye irritation"],
    }


def test_sections_decide_what_is_projected() -> None:
    public = bp.export(RICH).partial["GeneralProductInformation"]
    everything = bp.export(RICH, sections=SECTIONS).partial["GeneralProductInformation"]
    assert "batteryStatus" not in public and "puttingIntoService" not in public
    assert everything["batteryStatus"] == "Reused"
    assert everything["puttingIntoService"] == "2024-08-01T00:00:00Z"
    # Point 4 alone carries the status, not the public part; an earlier group works too.
    only_4 = bp.export(RICH, sections=("annex-xiii-4",)).partial["GeneralProductInformation"]
    assert only_4 == {"batteryStatus": "Reused", "puttingIntoService": "2024-08-01T00:00:00Z"}
    legacy = bp.export(RICH, sections=("public", "legitimate_interest", "authorities"))
    assert legacy == bp.export(RICH, sections=SECTIONS)
    with pytest.raises(TransformError, match="unknown sections") as caught:
        bp.export(RICH, sections=("everyone",))
    assert caught.value.pointer == "/sections"


@pytest.mark.parametrize(
    "sections",
    [
        combination
        for size in range(len(ALL_SECTIONS) + 1)
        for combination in itertools.combinations(ALL_SECTIONS, size)
    ],
    ids=lambda sections: "+".join(sections) or "none",
)
def test_any_combination_of_sections_exports(sections) -> None:
    # Multi-valued where a fixture record makes them so: test reports, names.
    several = {**RICH, "test_reports_compliance": ["https://a.example/1", "https://a.example/2"]}
    given = {"measured_at": MEASURED, "addresses": RICH_ADDRESSES, "details": RICH_DETAILS}
    for details in ({}, given):
        result = bp.export(several, sections=sections, **details)
        assert bp.validate(result.payloads) == {aspect: [] for aspect in result.payloads}
        assert set(result.payloads) | set(result.missing) == set(bp.ASPECTS)


def test_sparse_passport_projects_only_complete_aspects() -> None:
    sparse = {
        "battery_passport_id": "https://passports.example.eu/p/4A6PCPM27KLPCLE742946319",
        "battery_category": "ev",
        "rated_capacity": "150",
        "due_diligence_report": "https://battery.example.cn/doc/due-diligence.pdf",
        "carbon_footprint_per_fu": "61.3",
        "recycled_nickel_pre_consumer_share": "4.5",
        "battery_status": "original",  # legitimate interest: never in the public export
    }
    assert bp.project(sparse) == {
        "SupplyChainDueDiligence": {"supplyChainDueDiligenceReport": sparse["due_diligence_report"]}
    }
    missing = bp.missing_required(sparse)
    assert set(missing) == set(bp.ASPECTS) - {"SupplyChainDueDiligence"}
    assert missing["CarbonFootprint"] == [
        "carbonFootprintPerLifecycleStage[].lifecycleStage",
        "carbonFootprintPerLifecycleStage[].carbonFootprint",
        "carbonFootprintPerformanceClass",
        "carbonFootprintStudy",
    ]
    assert "productIdentifier" in missing["GeneralProductInformation"]
    assert "batteryStatus" in missing["GeneralProductInformation"]
    assert "batteryCategory" not in missing["GeneralProductInformation"]
    assert "recycledContent[recycledMaterial=Nickel].postConsumerShare" in missing["Circularity"]
    assert "batteryTechicalProperties.ratedCapacity" not in missing["Performance"]


def test_nothing_projects_from_nothing() -> None:
    assert bp.project({}) == {}
    assert set(bp.missing_required({})) == set(bp.ASPECTS)


def test_parallel_lists_of_unequal_length_leave_the_element_incomplete() -> None:
    attributes = {
        "hazardous_substances": ["Lithium hexafluorophosphate", "Ethylene carbonate"],
        "hazardous_substance_class": ["AcuteToxicity"],
    }
    missing = bp.missing_required(attributes)["MaterialComposition"]
    assert "hazardousSubstances[1].hazardousSubstanceClass" in missing
    assert "hazardousSubstances[0].hazardousSubstanceClass" not in missing


@pytest.mark.parametrize(
    ("key", "value", "path", "reason"),
    [
        ("battery_category", "portable", "batteryCategory", "has no Battery Pass value"),
        (
            "recycled_cobalt_pre_consumer_share",
            "150",
            "recycledContent[].preConsumerShare",
            "is greater than the maximum of 100",
        ),
        (
            "cycle_life_reference_test",
            "IEC 62660-1",
            "batteryTechicalProperties.lifetimeReferenceTest",
            "is not a 'uri'",
        ),
        (
            "rated_capacity",
            "150.1234567890123456",
            "batteryTechicalProperties.ratedCapacity",
            "more digits than a JSON number",
        ),
        ("battery_chemistry", "Sodium-ion", "batteryChemistry.clearName", "no clear name"),
    ],
)
def test_values_the_schema_cannot_carry_are_left_out_and_reported(
    key: str, value: str, path: str, reason: str
) -> None:
    result = bp.export({key: value})
    notes = [n for notes in result.rejected.values() for n in notes]
    assert len(notes) == 1
    assert notes[0].startswith(f"{path}: {key} {value!r} left out: ")
    assert reason in notes[0]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rated_capacity", "about 150"),
        ("rated_capacity", 150.0),
        ("manufacturing_date", "July 2024"),
        ("battery_mass", ["350", "351"]),
        ("manufacturer_name", 42),
    ],
)
def test_values_breaking_the_catalog_type_are_refused(key: str, value: object) -> None:
    with pytest.raises(TransformError) as caught:
        bp.export({key: value})
    assert caught.value.pointer == f"/{key}"


def test_empty_values_count_as_absent() -> None:
    missing = bp.missing_required({"manufacturer_name": "", "critical_raw_materials": []})
    assert "manufacturerInformation.contactName" in missing["GeneralProductInformation"]
    assert "batteryMaterials[].batteryMaterialName" in missing["MaterialComposition"]


def test_projection_does_not_mutate_its_input() -> None:
    attributes = copy.deepcopy(RICH)
    bp.export(attributes, sections=SECTIONS)
    assert attributes == RICH


def test_the_documented_table_matches_the_projection() -> None:
    doc = (ROOT / "docs" / "batterypass.md").read_text(encoding="utf-8")
    undocumented = [
        f"{rule.key} -> {rule.path}"
        for rule in bp.projection().rules
        if f"| `{rule.key}` | {load_catalog().by_key[rule.key].point} | "
        f"{rule.aspect}: `{rule.path}` |" not in doc
    ]
    assert undocumented == []
