"""Every fixture record converts, and its outputs hold up against independent checks.

Golden files live in ``fixtures/expected/<record>/``; run with ``UPDATE_GOLDEN=1`` to
rewrite them after an intended change, then review the diff.
"""

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.annex_xiii import SECTIONS
from gateway.credentials.jsonld import expand_strict
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from gateway.transform import en18223
from gateway.transform.batterypass import ASPECTS, addresses_of, export, validate
from gateway.transform.measurements import measured_at
from gateway.vocab.catalog import load_catalog
from gateway.vocab.shapes import check_shapes
from tests.helpers import covering_everything

BASE_URL = "https://passports.example.com"
MAPPING = "cn-trace-to-eu-passport@1.0.0"
RECORDS = sorted(p for p in (FIXTURES_DIR / "records").iterdir() if p.suffix in {".json", ".xml"})
EXPECTED = FIXTURES_DIR / "expected"


#: The moment the golden passports are issued at (their EN 18223 ``lastUpdate``).
ISSUED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _draft(path: Path):
    return draft_passport(read_record_file(path), mapping=MAPPING, base_url=BASE_URL, at=ISSUED)


@pytest.fixture(scope="module", params=RECORDS, ids=lambda p: p.name)
def converted(request):
    return request.param, _draft(request.param)


def _golden(path: Path, data) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path}; run with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == data


def test_gap_report_equals_the_expected_file(converted):
    path, draft = converted
    _golden(EXPECTED / path.name.replace(".", "-") / "gaps.json", draft.gaps)


def test_documents_equal_the_expected_files(converted):
    path, draft = converted
    folder = EXPECTED / path.name.replace(".", "-")
    for name, document in draft.documents.items():
        _golden(folder / f"passport-{name}.jsonld", document)
    # One file per issued section, and none left over from an earlier layout.
    expected = {f"passport-{name}.jsonld" for name in draft.documents}
    assert {p.name for p in folder.glob("passport-*.jsonld")} == expected


def test_sections_follow_the_points(converted):
    _, draft = converted
    assert next(iter(draft.documents)) == "annex-xiii-1"
    assert list(draft.documents) == sorted(draft.documents)  # point order
    by_section = draft.gaps["summary"]["by_section"]
    assert list(by_section) == ["annex-xiii-1", "annex-xiii-2", "annex-xiii-3", "annex-xiii-4"]
    for entry in draft.gaps["attributes"]:
        assert entry["access_group"] == f"annex-xiii-{entry['point']}"
    for name, document in draft.documents.items():
        filled = by_section[name]["filled"] + by_section[name]["partial"]
        values = [k for k in document if k in load_catalog().by_term]
        assert len(values) <= filled, name


def test_the_public_document_carries_the_en_18223_metadata(converted):
    _, draft = converted
    public = draft.documents["annex-xiii-1"]
    present = [k for k in public if k in en18223.FIELDS]
    assert present == [k for k in en18223.FIELDS if k in present]  # in EN 18223 order
    # Only what the record cannot give is left out, never invented.
    assert set(en18223.FIELDS) - set(present) <= {"economicOperatorId", "facilityId"}
    assert public["digitalProductPassportId"] == public["id"]
    assert public["dppStatus"] == "active"
    assert public["lastUpdate"] == "2026-12-01T08:00:00Z"
    assert public["contentSpecificationIds"] == [public["@context"][0]]
    # Only the public section carries it.
    for name, document in draft.documents.items():
        if name != "annex-xiii-1":
            assert not set(en18223.FIELDS) & set(document), name


def test_documents_expand_with_no_dropped_term(converted):
    _, draft = converted
    assert draft.documents, "every fixture fills at least the public group"
    for document in draft.documents.values():
        expanded = expand_strict(document)
        node = expanded[0]
        # one expanded property per attribute term, plus accessGroup
        terms = [k for k in document if k not in {"@context", "id", "type"}]
        assert len([k for k in node if not k.startswith("@")]) == len(terms)


def test_documents_conform_to_the_shapes(converted):
    _, draft = converted
    for group, document in draft.documents.items():
        assert check_shapes(document) == [], group


def test_public_part_exports_as_valid_battery_pass_payloads(converted):
    _, draft = converted
    result = export(draft.conversion.attributes)
    assert validate(result.payloads) == {aspect: [] for aspect in result.payloads}


def test_every_catalog_attribute_is_in_the_gap_report(converted):
    _, draft = converted
    assert len(draft.gaps["attributes"]) == len(load_catalog())
    summary = draft.gaps["summary"]
    assert sum(summary["by_status"].values()) == len(load_catalog())
    assert 0 <= summary["readiness"] <= 1


def test_no_float_anywhere_in_a_passport(converted):
    _, draft = converted

    def floats(value):
        if isinstance(value, float):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from floats(v)
        elif isinstance(value, list):
            for v in value:
                yield from floats(v)

    for document in draft.documents.values():
        assert list(floats(document)) == []


def test_xml_record_converts_like_its_json_twin():
    xml = _draft(FIXTURES_DIR / "records" / "ncm-ev-pack.xml")
    twin = _draft(FIXTURES_DIR / "records" / "ncm-ev-pack.json")
    assert xml.documents == twin.documents
    assert xml.gaps == twin.gaps


@pytest.mark.parametrize(
    ("fixture", "rule"),
    [
        ("late-report.json", "report-late"),
        ("non-whitelisted-recycler.json", "whitelist-not-listed"),
        ("broken-hierarchy.json", "hierarchy-level"),
        ("ambiguous-code.json", "code-ambiguous"),
    ],
)
def test_gap_reports_carry_the_national_findings(fixture, rule):
    draft = _draft(FIXTURES_DIR / "records" / "compliance" / fixture)
    national = draft.gaps["national"]
    assert rule in {f["rule"] for f in national["findings"]}
    for finding in national["findings"]:
        assert finding["source"] and finding["fields"]


# -- the Battery Pass projection of every fixture ----------------------------------------

#: Aspects each fixture writes with every section, an export approval covering all BMS
#: data, its structured addresses and its time of measurement. What keeps the NCM pack
#: at one aspect is listed in ``NCM_BLOCKERS``: data the record does not hold, the
#: catalog's "not applicable" for EV batteries, and the Battery Pass 1.2 schemas.
WRITTEN = {
    "ncm-ev-pack.json": {"SupplyChainDueDiligence"},
    "ncm-ev-pack.xml": {"SupplyChainDueDiligence"},
}
NCM_BLOCKERS = {
    # No EU operator in the record; putting into service does not apply to EV batteries
    # (Annex XIII, the catalog); warrentyPeriod is an xsd:gMonth (a month of the year).
    "GeneralProductInformation": [
        "operatorInformation.contactName",
        "operatorInformation.postalAddress.addressCountry",
        "operatorInformation.postalAddress.postalCode",
        "operatorInformation.postalAddress.streetAddress",
        "operatorInformation.identifier",
        "puttingIntoService",
        "warrentyPeriod",
    ],
    # The record's EU supplement gives no label symbols.
    "Labels": ["labels[].labelingSymbol", "labels[].labelingMeaning", "labels[].labelingSubject"],
    # ... and no carbon footprint per life-cycle stage.
    "CarbonFootprint": [
        "carbonFootprintPerLifecycleStage[].lifecycleStage",
        "carbonFootprintPerLifecycleStage[].carbonFootprint",
    ],
}


def _projection(path: Path, record=None, sections=SECTIONS):
    record = record or read_record_file(path)
    approval = covering_everything()
    draft = draft_passport(
        record, mapping=MAPPING, base_url=BASE_URL, approvals=[approval], at=ISSUED
    )
    return export(
        draft.conversion.attributes,
        sections=sections,
        measured_at=measured_at(record, draft.policy.withheld_paths),
        addresses=addresses_of(draft.conversion, record),
    )


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.name)
def test_every_fixture_projects_with_every_section_and_counts_its_aspects(path):
    for sections in (SECTIONS, ("annex-xiii-1",), ("annex-xiii-3", "annex-xiii-4")):
        result = _projection(path, sections=sections)
        assert validate(result.payloads) == {aspect: [] for aspect in result.payloads}
        assert set(result.payloads) | set(result.missing) == set(ASPECTS)
    result = _projection(path)
    assert set(result.payloads) == WRITTEN.get(path.name, set())
    # Every aspect left out says exactly which required properties it lacks.
    assert all(result.missing[aspect] for aspect in set(ASPECTS) - set(result.payloads))


def test_what_keeps_the_ncm_pack_from_more_aspects():
    result = _projection(FIXTURES_DIR / "records" / "ncm-ev-pack.json")
    assert {k: result.missing[k] for k in NCM_BLOCKERS} == NCM_BLOCKERS
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
    # Two test reports, one URI property: the first is written, the second reported.
    [note] = result.rejected["Labels"]
    assert note.startswith("resultOfTestReport: test_reports_compliance 'https://")


def test_the_ncm_pack_with_the_supplement_a_maker_adds_writes_three_aspects():
    record = read_record_file(FIXTURES_DIR / "records" / "ncm-ev-pack.json")
    record["eu_supplement"] = {
        **record["eu_supplement"],
        "cf_share_raw_material": "58",
        "cf_share_main_production": "32",
        "cf_share_distribution": "3",
        "cf_share_end_of_life": "7",
        "separate_collection_symbol": "https://battery.example.cn/labels/bin.svg",
        "meaning_of_labels": "Crossed-out bin: collect separately.",
    }
    result = _projection(FIXTURES_DIR / "records" / "ncm-ev-pack.json", record=record)
    assert set(result.payloads) == {"SupplyChainDueDiligence", "CarbonFootprint", "Labels"}
    assert validate(result.payloads) == {aspect: [] for aspect in result.payloads}


def test_an_address_is_taken_only_as_the_passport_states_it():
    path = FIXTURES_DIR / "records" / "ncm-ev-pack.json"
    record = read_record_file(path)
    draft = _draft(path)
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
