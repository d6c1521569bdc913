"""National platform fields declared as data: the table, the record block, and the whole
path of a new field (record -> mapping -> policy -> gap report) with no code change."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import ConfigError, InvalidRecord
from gateway.jsonvalues import VALUE_KINDS
from gateway.mapping.sssom import read_sssom
from gateway.mapping.validate import validate
from gateway.paths import MAPPINGS_DIR
from gateway.policy.table import TABLES_DIR as POLICY_DIR
from gateway.policy.table import apply_policy, load_policy
from gateway.records import field_paths, read_record
from gateway.records.paths import field_kinds
from gateway.records.platform_fields import (
    COLUMNS,
    TABLE_DIR,
    TABLE_FILE,
    load_platform_fields,
)
from gateway.records.xml_format import write_xml_record
from gateway.services import draft_passport
from gateway.vocab.catalog import load_catalog

NS = "https://w3id.org/cn-eu-battery/ns/record/1"
CODE = "Z9ZPEB3SPRS001E9R0000456"
BASE_URL = "https://passports.example.com"
MAPPING_FILE = MAPPINGS_DIR / "cn-trace-to-eu-passport" / "1.0.0.sssom.tsv"
POLICY_FILE = "cn-export-1.0.0.csv"

#: A field the shipped table does not declare, as a standards team would add it.
NEW_FIELD = {
    "name": "assurance_scheme",
    "kind": "string",
    "label_en": "Third-party assurance scheme",
    "label_zh": "第三方认证方案",
    "description": "Recognised scheme the battery's due diligence is assured under.",
    "source": "test table: not a platform data item",
    "confidence": "U",
    "added_in": "1.1.0",
}
NEW_PATH = f"platform_fields.{NEW_FIELD['name']}"
#: The mapping row a standards team adds, in place of the attribute's NoTermFound row.
MAPPING_ROW = "\t".join(
    [
        f"cntrace:{NEW_PATH}",
        NEW_FIELD["label_en"],
        "skos:exactMatch",
        "eubp:thirdPartyAssurances",
        "Third-party assurances of recognised schemes",
        "semapv:ManualMappingCuration",
        "cneubat:standards-team",
        "",
        "",
        NEW_FIELD["label_zh"],
        "",
        "",
    ]
)


def record(**platform_fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model_version": "cn-trace/1",
        "battery": {"code": CODE, "category": "ev"},
        "manufacturer": {"name": "闽东示例动力电池有限公司"},
    }
    if platform_fields:
        data["platform_fields"] = platform_fields
    return data


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def problems(data: bytes, media_type: str = "application/json", **kwargs: Any) -> dict:
    with pytest.raises(InvalidRecord) as caught:
        read_record(data, media_type, **kwargs)
    return {e["pointer"]: e for e in caught.value.extensions["errors"]}


def copy_table(tmp_path: Path, *rows: dict[str, str], version: str = "1.1.0") -> Path:
    """The shipped table copied to ``tmp_path`` with ``rows`` appended: data only."""
    directory = tmp_path / "platform-fields"
    shutil.copytree(TABLE_DIR, directory)
    meta_path = directory / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["version"] = version
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    with (directory / TABLE_FILE).open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
    return directory


@pytest.fixture
def table(tmp_path: Path):
    return load_platform_fields(copy_table(tmp_path, NEW_FIELD))


def policy_with(tmp_path: Path, *rows: str):
    """The shipped cross-border policy with ``rows`` appended, loaded from ``tmp_path``."""
    directory = tmp_path / "policy"
    directory.mkdir()
    text = (POLICY_DIR / POLICY_FILE).read_text(encoding="utf-8")
    (directory / POLICY_FILE).write_text(text + "".join(f"{r}\n" for r in rows), "utf-8")
    return load_policy("cn-export@1.0.0", tables_dir=directory)


def mapping_with_new_row():
    text = MAPPING_FILE.read_text(encoding="utf-8")
    lines = text.splitlines()
    (old,) = [i for i, line in enumerate(lines) if "\teubp:thirdPartyAssurances\t" in line]
    assert lines[old].startswith("sssom:NoTermFound")
    lines[old] = MAPPING_ROW
    return read_sssom("\n".join(lines) + "\n")


def gap(draft, key: str) -> dict[str, Any]:
    (entry,) = [a for a in draft.gaps["attributes"] if a["key"] == key]
    return entry


# -- the shipped table ------------------------------------------------------------------


def test_shipped_table_declares_sourced_fields() -> None:
    shipped = load_platform_fields()
    assert shipped.version == "1.0.0"
    assert "digital_id" in shipped.by_name
    for declared in shipped.fields:
        assert declared.kind in VALUE_KINDS
        assert declared.source and declared.label_en and declared.label_zh
    # Nothing official is public yet: every shipped field is marked provisional.
    assert all(f.provisional for f in shipped.fields)
    assert load_platform_fields() is shipped, "read once"


def test_every_declared_field_is_a_source_path_with_its_kind() -> None:
    shipped = load_platform_fields()
    paths = {p for p in field_paths() if p.startswith("platform_fields.")}
    assert paths == {f"platform_fields.{f.name}" for f in shipped.fields}
    assert field_kinds()["platform_fields.digital_id"] == "string"
    assert field_kinds()["platform_fields.carbon_footprint_declared"] == "decimal"
    assert field_kinds()["platform_fields"] == "object"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "colour"}, "row 4: kind 'colour' is not one of"),
        ({"name": "Digital-ID"}, "row 4: name 'Digital-ID' is not snake_case"),
        ({"name": "digital_id"}, "row 4: name 'digital_id' is declared twice"),
        ({"added_in": "2.0.0"}, "row 4: added_in '2.0.0' must be a version"),
        ({"confidence": "X"}, "row 4: confidence must be S, P or U"),
        ({"source": ""}, "row 4: source is empty"),
    ],
)
def test_a_broken_row_is_refused_naming_it(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    directory = copy_table(tmp_path, {**NEW_FIELD, **change})
    with pytest.raises(ConfigError, match=message):
        load_platform_fields(directory)


def test_a_missing_table_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="metadata.json unreadable"):
        load_platform_fields(tmp_path)


# -- the record block -------------------------------------------------------------------


def test_values_are_checked_by_kind() -> None:
    data = record(digital_id="DID-0001", carbon_footprint_declared="7.25e1")
    found = problems(as_json(data))
    assert list(found) == ["/platform_fields/carbon_footprint_declared"]
    assert found["/platform_fields/carbon_footprint_declared"]["message"].endswith(
        "(platform field kind decimal-string)"
    )
    body = as_json(data).replace(b'"7.25e1"', b"72.50")  # a JSON number, read exactly
    loaded = read_record(body, "application/json")
    assert loaded["platform_fields"] == {
        "digital_id": "DID-0001",
        "carbon_footprint_declared": "72.5",
    }


def test_unknown_and_ill_typed_fields_are_named() -> None:
    found = problems(as_json(record(colour="red", digital_id=7, carbon_footprint_declared="x")))
    assert set(found) == {
        "/platform_fields/colour",
        "/platform_fields/digital_id",
        "/platform_fields/carbon_footprint_declared",
    }
    assert (
        "not a national platform field declared in platform-fields 1.0.0"
        in (found["/platform_fields/colour"]["message"])
    )
    assert found["/platform_fields/digital_id"]["message"] == (
        "must be a string (platform field kind string)"
    )


def test_platform_fields_must_be_an_object() -> None:
    data = record()
    data["platform_fields"] = ["digital_id"]
    assert "/platform_fields" in problems(as_json(data))


def test_xml_form_is_the_json_twin_and_round_trips() -> None:
    data = record(digital_id="DID-0001", carbon_footprint_declared="72.5")
    loaded = read_record(as_json(data), "application/json")
    written = write_xml_record(loaded)
    assert b'<field name="digital_id">DID-0001</field>' in written
    assert read_record(written, "application/xml") == loaded


def test_xml_problems_name_the_field_element() -> None:
    body = (
        f'<record xmlns="{NS}" model_version="cn-trace/1">'
        f"<battery><code>{CODE}</code><category>ev</category></battery>"
        "<manufacturer><name>M</name></manufacturer>\n"
        '<platform_fields><field name="carbon_footprint_declared">many</field>\n'
        '<field name="colour">red</field>\n'
        '<field name="colour">blue</field></platform_fields></record>'
    ).encode()
    with pytest.raises(InvalidRecord) as caught:
        read_record(body, "application/xml")
    where = "/record/platform_fields/field[@name='{}']"
    assert [(e["pointer"], e["line"]) for e in caught.value.extensions["errors"]] == [
        (where.format("colour"), 4),  # the repeat, found while reading
        (where.format("carbon_footprint_declared"), 2),
        (where.format("colour"), 3),
    ]


def test_xsd_requires_the_name_attribute() -> None:
    body = (
        f'<record xmlns="{NS}" model_version="cn-trace/1">'
        f"<battery><code>{CODE}</code><category>ev</category></battery>"
        "<manufacturer><name>M</name></manufacturer>"
        "<platform_fields><field>x</field></platform_fields></record>"
    ).encode()
    (problem,) = problems(body, "application/xml").values()
    assert "name" in problem["message"] and "required" in problem["message"]


def test_boolean_fields_take_json_booleans_and_xsd_lexical_forms(tmp_path: Path) -> None:
    flag = {**NEW_FIELD, "name": "recycled", "kind": "boolean"}
    table = load_platform_fields(copy_table(tmp_path, flag))
    loaded = read_record(as_json(record(recycled=True)), "application/json", platform_fields=table)
    assert loaded["platform_fields"] == {"recycled": True}
    for refused in ("true", 1):
        found = problems(as_json(record(recycled=refused)), platform_fields=table)
        assert found["/platform_fields/recycled"]["message"].startswith("must be true or false")
    written = write_xml_record(loaded)
    assert b'<field name="recycled">true</field>' in written
    xml_zero = written.replace(b">true<", b"> 0 <")
    assert read_record(xml_zero, "application/xml", platform_fields=table)["platform_fields"] == {
        "recycled": False
    }


# -- a new field: data only -------------------------------------------------------------


def test_a_new_field_validates_once_declared(table) -> None:
    data = as_json(record(assurance_scheme="Responsible Minerals Assurance Process"))
    # Before the row exists, the field is unknown.
    assert "/platform_fields/assurance_scheme" in problems(data)
    loaded = read_record(data, "application/json", platform_fields=table)
    assert loaded["platform_fields"] == {
        "assurance_scheme": "Responsible Minerals Assurance Process"
    }
    written = write_xml_record(loaded)
    assert read_record(written, "application/xml", platform_fields=table) == loaded
    wrong = problems(as_json(record(assurance_scheme=3)), platform_fields=table)
    assert wrong["/platform_fields/assurance_scheme"]["message"] == (
        "must be a string (platform field kind string)"
    )


def test_a_new_field_is_a_source_path(table) -> None:
    assert NEW_PATH in field_paths(table)
    assert NEW_PATH not in field_paths()
    assert field_kinds(table)[NEW_PATH] == "string"
    assert field_paths() <= field_paths(table)


def test_a_mapping_row_may_read_the_new_field(table) -> None:
    mapping = mapping_with_new_row()
    assert validate(mapping, load_catalog(), field_paths(table)) == []
    # Against the shipped table the row names a path the model does not have.
    (problem,) = validate(mapping, load_catalog(), field_paths())
    assert problem.column == "subject_id" and NEW_PATH in problem.message


def test_a_new_field_stays_withheld_until_a_policy_row_classifies_it(table, tmp_path: Path) -> None:
    data = record(assurance_scheme="RMAP")
    loaded = read_record(as_json(data), "application/json", platform_fields=table)
    draft = draft_passport(
        loaded, mapping=mapping_with_new_row(), base_url=BASE_URL, policy=policy_with(tmp_path)
    )
    entry = gap(draft, "third_party_assurances")
    assert entry["status"] == "withheld"
    assert entry["source"] == NEW_PATH
    assert "third_party_assurances" not in draft.conversion.attributes


def test_a_policy_row_lets_a_new_field_leave(table, tmp_path: Path) -> None:
    row = f'{NEW_PATH},export,"Name of a public assurance scheme: no personal data.",'
    data = record(assurance_scheme="RMAP")
    loaded = read_record(as_json(data), "application/json", platform_fields=table)
    draft = draft_passport(
        loaded,
        mapping=mapping_with_new_row(),
        base_url=BASE_URL,
        policy=policy_with(tmp_path, row),
    )
    entry = gap(draft, "third_party_assurances")
    assert (entry["status"], entry["source"]) == ("filled", NEW_PATH)
    assert draft.conversion.attributes["third_party_assurances"] == "RMAP"


def test_shipped_policy_exports_classified_platform_fields_only(table) -> None:
    loaded = read_record(
        as_json(record(digital_id="DID-0001", assurance_scheme="RMAP")),
        "application/json",
        platform_fields=table,
    )
    kept, decision = apply_policy(loaded, load_policy())
    assert kept["platform_fields"] == {"digital_id": "DID-0001"}
    assert decision.withheld == (NEW_PATH,)
    assert decision.withheld_paths[NEW_PATH].endswith("not classified for export")
