"""Every fixture record converts, and its outputs hold up against independent checks.

Golden files live in ``fixtures/expected/<record>/``; run with ``UPDATE_GOLDEN=1`` to
rewrite them after an intended change, then review the diff.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.credentials.jsonld import expand_strict
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from gateway.settings import DEFAULT_MAPPING as MAPPING
from gateway.transform import en18223
from gateway.transform.batterypass import export, validate
from gateway.vocab.catalog import load_catalog
from gateway.vocab.shapes import check_shapes

BASE_URL = "https://passports.example.com"
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
