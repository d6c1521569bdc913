"""The engine's rules across the fixture records: dynamic values carry their time, the
supplement is never silently dropped, and links go only to passports the issuer knows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.mapping import loader
from gateway.policy.approvals import covered
from gateway.policy.table import apply_policy, load_policy
from gateway.records.reader import read_record_file
from gateway.services.conversion import decode_code
from gateway.settings import DEFAULT_MAPPING
from gateway.transform.engine import ORIGINS, convert
from gateway.transform.gaps import gap_report, gap_table
from gateway.vocab.catalog import load_catalog
from tests.helpers import BASE_URL, RECORDS, covering_everything

FIXTURES = sorted(p for p in RECORDS.iterdir() if p.suffix in {".json", ".xml"})
VERSIONS = ["cn-trace-to-eu-passport@1.0.0", DEFAULT_MAPPING]


def _convert(record, ref=DEFAULT_MAPPING, **options):
    """The engine's part of a conversion, under the data policy with every BMS category
    approved (the policy computes the aggregates the mapping reads)."""
    released = covered([covering_everything()], datetime(2026, 12, 1, tzinfo=UTC))
    exportable, decision = apply_policy(record, load_policy(), released)
    return convert(
        exportable,
        loader.load(ref),
        load_catalog(),
        base_url=BASE_URL,
        decode_code=decode_code,
        withheld=decision.withheld_paths,
        **options,
    )


@pytest.mark.parametrize("ref", VERSIONS)
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_published_dynamic_value_says_when_it_was_measured(path, ref):
    conversion = _convert(read_record_file(path), ref)
    for result in conversion.results:
        if result.value is None:
            assert not result.origin, result.attribute.key
            continue
        assert result.origin in ORIGINS, result.attribute.key
        if not result.attribute.static:
            assert result.measured_at, result.attribute.key


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_no_supplement_value_is_dropped_without_a_word(path):
    record = read_record_file(path)
    results = {r.attribute.key: r for r in _convert(record).results}
    for key, value in (record.get("eu_supplement") or {}).items():
        if key not in results:
            continue  # the structure behind a catalog attribute, read by the exports
        result = results[key]
        used = result.origin == "supplement" and result.value == value
        same = result.origin == "national" and result.value == value
        assert used or same or result.conflict, key


def test_a_predecessor_passport_the_issuer_holds_is_linked():
    record = read_record_file(RECORDS / "echelon-pack.json")
    original = record["battery"]["original_code"]
    unknown = {r.attribute.key: r for r in _convert(record).results}
    assert unknown["predecessor_passport_id"].value is None
    assert "is known to this gateway" in unknown["predecessor_passport_id"].reason
    link = f"{BASE_URL}/passports/{original}"
    known = {r.attribute.key: r for r in _convert(record, passport_of={original: link}.get).results}
    assert known["predecessor_passport_id"].status == "filled"
    assert known["predecessor_passport_id"].value == link


def test_the_gap_table_gives_readiness_from_national_data_and_with_the_supplement():
    record = read_record_file(RECORDS / "lfp-storage-pack.json")
    report = gap_report(_convert(record))
    summary = report["summary"]
    assert report["report"] == "gaps/3"
    by_origin = summary["mandatory_filled_by_origin"]
    applicable = summary["mandatory_applicable"]
    assert summary["mandatory_filled"] == sum(by_origin.values())
    assert summary["readiness_by_source"]["national"] == round(
        by_origin["national"] / applicable, 4
    )
    assert by_origin["gateway"] == 1  # the passport id
    text = gap_table(report)
    assert (
        f"national data alone {summary['readiness_by_source']['national']:.1%}, with the EU "
        f"supplement {summary['readiness_by_source']['with_supplement']:.1%} "
        f"({by_origin['supplement']} declared in the supplement, 1 minted by the gateway)"
    ) in text
