import csv
from pathlib import Path

import pytest

from gateway.annex_xiii import POINTS, section
from gateway.errors import CatalogInvalid
from gateway.vocab.catalog import (
    CATALOG_PATH,
    CATEGORIES,
    COLUMNS,
    VOCAB_NS,
    datatype_of,
    load_catalog,
    term_of,
)

XSD = "http://www.w3.org/2001/XMLSchema#"


def _rows() -> list[dict[str, str]]:
    with CATALOG_PATH.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_all_rows_in_csv_order():
    catalog = load_catalog()
    rows = _rows()
    assert rows and len(rows) == len(catalog.attributes)
    assert [a.key for a in catalog.attributes] == [r["key"] for r in rows]
    assert [a.n for a in catalog] == list(range(1, len(rows) + 1))


def test_default_catalog_is_cached():
    assert load_catalog() is load_catalog()


def test_terms_and_iris():
    catalog = load_catalog()
    a = catalog.by_key["battery_unique_identifier"]
    assert a.term == "batteryUniqueIdentifier"
    assert a.iri == VOCAB_NS + "batteryUniqueIdentifier"
    assert catalog.by_term["batteryUniqueIdentifier"] is a
    assert term_of("state_of_health") == "stateOfHealth"
    assert term_of("cf_general_battery_manufacturer_info") == "cfGeneralBatteryManufacturerInfo"


def test_each_attribute_falls_under_one_annex_xiii_point():
    catalog = load_catalog()
    rows = {r["key"]: r for r in _rows()}
    by_access = {
        "public": 1,
        "legitimate_interest_commission": 2,
        "authorities": 3,
        "legitimate_interest": 4,
    }
    for a in catalog:
        assert a.point == by_access[rows[a.key]["access"]], a.key
        assert a.access_group == section(a.point) == f"annex-xiii-{a.point}"
    assert [len(catalog.at_point(p)) for p in POINTS] == [82, 5, 1, 31]
    assert sum(len(catalog.at_point(p)) for p in POINTS) == len(catalog.attributes)


def test_points_follow_annex_xiii():
    catalog = load_catalog()
    assert catalog.by_key["rated_capacity"].point == 1
    # Annex XIII 2(b): spare-part sources, for legitimate interest and the authorities.
    spare = catalog.by_key["spare_part_sources"]
    assert (spare.access, spare.point) == ("legitimate_interest_commission", 2)
    # Annex XIII 3: test reports only for authorities.
    assert catalog.by_key["test_reports_compliance"].point == 3
    # Annex XIII 4: the individual battery (status is 4(c), condition and history).
    for key in ("battery_status", "state_of_health", "information_on_accidents"):
        assert catalog.by_key[key].point == 4, key


def test_obligations_per_category():
    catalog = load_catalog()
    rows = {r["key"]: r for r in _rows()}
    for a in catalog:
        for category in CATEGORIES:
            assert a.obligation(category) == rows[a.key][f"obligation_{category}"]
            assert a.is_mandatory(category) == (a.obligation(category) == "mandatory")
    # Annex XIII 1(k): capacity threshold for exhaustion applies to EV only.
    threshold = catalog.by_key["capacity_threshold_for_exhaustion"]
    assert threshold.is_mandatory("ev")
    assert threshold.obligation("lmt") == "not_applicable"
    with pytest.raises(ValueError, match="portable"):
        threshold.obligation("portable")


def test_static_level_and_splits():
    catalog = load_catalog()
    soh = catalog.by_key["state_of_health"]
    assert soh.static is False and soh.level == "item"
    assert catalog.by_key["rated_capacity"].static is True
    batch = catalog.by_key["battery_batch_number"]
    assert batch.catenax_paths == (
        "identification.identification.batch[].key",
        "identification.identification.batch[].value",
    )
    assert batch.batterypass_urns == ()
    assert catalog.by_key["rated_capacity"].batterypass_urns == (
        "urn:samm:io.BatteryPass.Performance:1.2.1#ratedCapacity",
    )


@pytest.mark.parametrize(
    ("data_type", "unit", "expected"),
    [
        ("Decimal", "%", ("decimal-string", XSD + "decimal")),
        ("Integer", "", ("integer", XSD + "integer")),
        ("Integer", "Minutes", ("integer", XSD + "integer")),
        ("Integer", "[tCO2e]", ("integer", XSD + "integer")),
        ("Integer", "V", ("decimal-string", XSD + "decimal")),
        ("Integer", "Ohm", ("decimal-string", XSD + "decimal")),
        ("Integer", "°C", ("decimal-string", XSD + "decimal")),
        ("Date[YYYY-MM]", "", ("year-month", XSD + "gYearMonth")),
        ("Date", "", ("date", XSD + "date")),
        ("Link to PDF", "", ("uri", XSD + "anyURI")),
        ("Graphic", "", ("uri", XSD + "anyURI")),
        ("composite", "", ("decimal-string", XSD + "decimal")),
        ("ID", "", ("string", None)),
        ("Enum", "", ("string", None)),
    ],
)
def test_datatype_rule(data_type, unit, expected):
    assert datatype_of(data_type, unit) == expected


def test_datatypes_of_known_attributes():
    catalog = load_catalog()
    assert catalog.by_key["rated_capacity"].json_type == "decimal-string"
    assert catalog.by_key["manufacturing_date"].xsd == XSD + "gYearMonth"
    assert catalog.by_key["expected_lifetime_cycles"].json_type == "integer"
    assert catalog.by_key["battery_category"].xsd is None


def _write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "catalog.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_other_path_is_read(tmp_path):
    catalog = load_catalog(_write(tmp_path, _rows()[:3]))
    assert [a.key for a in catalog] == [r["key"] for r in _rows()[:3]]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("access", "everyone", r"line 3, column 'access'"),
        ("obligation_ev", "maybe", r"line 3, column 'obligation_ev'"),
        ("data_type", "Float", r"line 3, column 'data_type'.*no datatype rule"),
        ("key", "Bad-Key", r"line 3, column 'key'"),
        ("key", "access_group", r"reserves"),
    ],
)
def test_bad_rows_are_refused_with_line_and_column(tmp_path, column, value, message):
    rows = _rows()[:3]
    rows[1][column] = value
    with pytest.raises(CatalogInvalid, match=message):
        load_catalog(_write(tmp_path, rows))


def test_duplicate_key_is_refused(tmp_path):
    rows = _rows()[:3]
    rows[2]["key"] = rows[0]["key"]
    with pytest.raises(CatalogInvalid, match="repeats row 1"):
        load_catalog(_write(tmp_path, rows))


def test_missing_column_is_refused(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text("n,key\n1,a\n", encoding="utf-8")
    with pytest.raises(CatalogInvalid, match="missing columns name"):
        load_catalog(path)
