"""The published versions of cn-trace-to-eu-passport: 1.0.0 never changes and stays
usable; 1.1.0 and 1.2.0 hold the changes they were published for; 1.2.0 is the
default."""

from __future__ import annotations

import hashlib
import warnings

import pytest

from gateway.mapping import diff, loader
from gateway.mapping.sssom import read_sssom, write_sssom
from gateway.mapping.validate import validate
from gateway.paths import MAPPINGS_DIR
from gateway.records.paths import field_paths
from gateway.settings import DEFAULT_MAPPING
from gateway.vocab.catalog import load_catalog

SET = "cn-trace-to-eu-passport"
FIRST, SECOND, THIRD = f"{SET}@1.0.0", f"{SET}@1.1.0", f"{SET}@1.2.0"


def _file(ref: str):
    set_id, version = loader.parse_ref(ref)
    return MAPPINGS_DIR / set_id / f"{version}{loader.SUFFIX}"


def test_the_first_version_is_byte_for_byte_what_was_published():
    digest = hashlib.sha256(_file(FIRST).read_bytes()).hexdigest()
    assert digest == "8587b02674beae3a70fa0a912791b08870fd875a6bf336322f5671d3d667fc14"


def test_every_version_loads_and_the_newest_is_the_default():
    assert {FIRST, SECOND, THIRD} <= set(loader.available())
    assert DEFAULT_MAPPING == THIRD
    newer = loader.load(SECOND)
    assert newer.metadata["object_source_version"] == "passport/v3"
    assert loader.load(FIRST).metadata["object_source_version"] == "passport/v1"


@pytest.mark.parametrize("ref", [FIRST, SECOND, THIRD])
def test_each_version_is_sssom_our_writer_reproduces(ref):
    path = _file(ref)
    text = path.read_text(encoding="utf-8")
    assert write_sssom(read_sssom(text)) == text
    sssom_parsers = pytest.importorskip("sssom.parsers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msdf = sssom_parsers.parse_sssom_table(str(path))
    ours = {(r.subject_id, r.predicate_id, r.object_id) for r in loader.load(ref).rows}
    theirs = set(zip(msdf.df.subject_id, msdf.df.predicate_id, msdf.df.object_id, strict=True))
    assert theirs == ours


def _rows(ref: str, term: str) -> list[tuple[str, str, str]]:
    return [(r.subject_id, r.predicate_id, r.transform) for r in loader.load(ref).rows_for(term)]


def _national(ref: str, term: str) -> set[str]:
    return {
        r.subject_id
        for r in loader.load(ref).rows_for(term)
        if r.source_path is not None and not r.from_supplement
    }


def test_the_changes_of_1_1_0():
    change = diff.diff(loader.load(FIRST), loader.load(SECOND))
    assert change.bump == "major"  # rows read other sources: passports would change
    assert not change.removed
    # A sale is not putting into service; the legal name is not a trade name; capacity
    # fade is declared, never 100 - SOH; the two name rows became one in two languages.
    assert _national(SECOND, "puttingIntoServiceDate") == {"cntrace:events.date"}
    first_row = loader.load(SECOND).rows_for("puttingIntoServiceDate")[0]
    assert first_row.params["where"] == {"type": "installation"}
    assert _national(SECOND, "manufacturerTradeName") == set()
    assert _national(SECOND, "capacityFade") == set()
    assert _national(SECOND, "manufacturerName") == {"cntrace:manufacturer"}
    assert _rows(SECOND, "manufacturerIdentifier")[0] == (
        "cntrace:manufacturer.uscc",
        "skos:closeMatch",
        "uscc",
    )
    assert _rows(SECOND, "predecessorPassportId")[0][2] == "known_passport"
    # What the record carries and 1.0.0 left to the supplement.
    for term, source in {
        "cycleLifeReferenceTest": "cntrace:test_reports.standard",
        "initialInternalResistanceModule": "cntrace:specs.internal_resistance_module",
        "informationOnAccidents": "cntrace:events",
    }.items():
        assert source in _national(SECOND, term) - _national(FIRST, term), term


@pytest.mark.parametrize("ref", [SECOND, THIRD])
def test_national_rows_come_before_the_supplement_row(ref: str):
    table = loader.load(ref)
    for attribute in load_catalog().attributes:
        rows = table.rows_for(attribute.term)
        kinds = [r.from_supplement for r in rows if r.source_path is not None]
        assert kinds == sorted(kinds), attribute.key  # national (False) first
        if not attribute.static and any(r.from_supplement for r in rows):
            assert all(r.params.get("as_of") for r in rows if r.from_supplement), attribute.key


def test_validation_refuses_a_supplement_key_no_record_may_carry_and_a_bad_as_of():
    table = loader.load(SECOND)
    rows = list(table.rows)
    category = next(i for i, r in enumerate(rows) if r.attribute_term == "batteryCategory")
    soc = next(i for i, r in enumerate(rows) if r.subject_id == "cntrace:usage.soc")
    rows[category] = rows[category].__class__(
        number=rows[category].number,
        subject_id="cntrace:eu_supplement.battery_category",
        predicate_id="skos:exactMatch",
        object_id="eubp:batteryCategory",
    )
    rows[soc] = rows[soc].__class__(
        number=rows[soc].number,
        subject_id="cntrace:usage.soc",
        predicate_id="skos:exactMatch",
        object_id="eubp:stateOfCharge",
        params={"as_of": "usage.when"},
    )
    broken = table.__class__(table.set_id, "9.9.9", tuple(rows), table.metadata)
    problems = {(p.row, p.column) for p in validate(broken, load_catalog(), field_paths())}
    assert (rows[category].number, "subject_id") in problems
    assert (rows[soc].number, "transform_params") in problems


def test_the_changes_of_1_2_0_only_add_rows():
    change = diff.diff(loader.load(SECOND), loader.load(THIRD))
    assert change.bump == "minor"  # rows added, none removed, none reading anew
    assert not change.removed
    assert all(set(c.fields) <= set(diff.TEXT_FIELDS) for c in change.changed)
    added = {(r.attribute_term, r.subject_id) for r in change.added}
    assert {
        ("temperatureInformation", "cntrace:usage.temperature.max"),
        ("informationOnAccidents", "cntrace:usage.alarms"),
    } <= added
    # The measured temperature comes before the supplement and is dated by its period.
    first = loader.load(THIRD).rows_for("temperatureInformation")[0]
    assert first.subject_id == "cntrace:usage.temperature.max"
    assert first.params["as_of"] == "usage.temperature.as_of"
    assert "MeasuredTemp" in first.comment
    # Repairs and alarm counts are stated together before the rows that state one of them.
    accidents = [r.transform for r in loader.load(THIRD).rows_for("informationOnAccidents")]
    assert accidents[:3] == [
        "accident_history",
        "negative_event",
        "alarm_events",
    ]
