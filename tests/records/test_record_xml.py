"""The XML form: safe parsing, XSD, conversion, and its equivalence with the JSON form."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import InvalidRecord, UnsafeInput
from gateway.paths import FIXTURES_DIR
from gateway.records import field_paths, read_record, read_record_file
from gateway.records.platform_fields import load_platform_fields
from gateway.records.schema import CATEGORIES, RECORD_SCHEMA
from gateway.records.xml_format import XSD_PATH, write_xml_record, xml_schema

RECORDS = FIXTURES_DIR / "records"
NS = "https://w3id.org/cn-eu-battery/ns/record/1"
XS = "{http://www.w3.org/2001/XMLSchema}"
MINIMAL = (
    '<?xml version="1.0" encoding="{enc}"?>{doctype}'
    f'<record xmlns="{NS}" model_version="cn-trace/1">'
    "<battery><code>Z9ZPEB3SPRS001E9R0000456</code><category>ev</category></battery>"
    "<manufacturer><name>{name}</name></manufacturer>{extra}</record>"
)


def xml(name: str = "M", extra: str = "", doctype: str = "", enc: str = "UTF-8") -> bytes:
    return MINIMAL.format(name=name, extra=extra, doctype=doctype, enc=enc).encode(
        "utf-16" if enc == "UTF-16" else "utf-8"
    )


def refused(data: bytes) -> list[dict[str, object]]:
    with pytest.raises(InvalidRecord) as caught:
        read_record(data, "application/xml")
    return caught.value.extensions["errors"]  # type: ignore[return-value]


@pytest.mark.parametrize("media_type", ["application/xml", "text/xml", "application/x-cn+xml"])
def test_minimal_xml(media_type: str) -> None:
    assert read_record(xml(), media_type) == {
        "model_version": "cn-trace/1",
        "battery": {"code": "Z9ZPEB3SPRS001E9R0000456", "category": "ev"},
        "manufacturer": {"name": "M"},
    }


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE record [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE record SYSTEM "http://example.invalid/record.dtd">',
        "<!DOCTYPE record>",
    ],
)
def test_any_doctype_is_refused(doctype: str) -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_record(xml(name="&xxe;", doctype=doctype), "application/xml")
    assert caught.value.status == 400


def test_doctype_in_utf16_is_refused_after_parsing() -> None:
    data = xml(doctype='<!DOCTYPE record [<!ENTITY a "aaaa">]>', name="&a;", enc="UTF-16")
    assert b"<!DOCTYPE" not in data
    with pytest.raises(UnsafeInput):
        read_record(data, "application/xml")


def test_undeclared_entity_is_not_well_formed() -> None:
    (error,) = refused(xml(name="&xxe;"))
    assert "not well-formed" in error["message"] and error["line"] == 1


def test_external_entity_contents_never_appear() -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_record_file(RECORDS / "invalid" / "entity.xml")
    assert "root:" not in repr(caught.value.to_problem())


def test_xsd_reports_every_problem() -> None:
    errors = refused(xml(extra="<usage><cycles>x</cycles><soh>y</soh></usage>"))
    assert [e["pointer"] for e in errors] == ["/record/usage/cycles", "/record/usage/soh"]
    assert "{" not in str(errors[0]["message"])  # namespace braces cleaned away


def test_wrong_root_is_refused() -> None:
    errors = refused(b"<record><battery/></record>")
    assert errors[0]["pointer"] == "/record"


def test_whitespace_around_typed_values_is_not_data() -> None:
    data = xml(extra="<usage><cycles> 12 </cycles><soh>\n 92.50 </soh></usage>")
    assert read_record(data, "application/xml")["usage"] == {"cycles": 12, "soh": "92.5"}


def test_eu_supplement_elements_are_catalog_keys() -> None:
    extra = (
        "<eu_supplement><absolute_carbon_footprint>4</absolute_carbon_footprint>"
        "<manufacturing_date>2024-07</manufacturing_date></eu_supplement>"
    )
    assert read_record(xml(extra=extra), "application/xml")["eu_supplement"] == {
        "absolute_carbon_footprint": 4,
        "manufacturing_date": "2024-07",
    }
    extra = (
        "<eu_supplement><colour>blue</colour><cf_performance_class><b/></cf_performance_class>"
        "<manufacturing_date>2024-07</manufacturing_date>"
        "<manufacturing_date>2024-08</manufacturing_date></eu_supplement>"
    )
    errors = refused(xml(extra=extra))
    assert {(e["pointer"], e["message"]) for e in errors} == {
        (
            "/record/eu_supplement/colour",
            "is not a key of the EU battery passport attribute catalog",
        ),
        ("/record/eu_supplement/cf_performance_class", "must hold text, not elements"),
        ("/record/eu_supplement/manufacturing_date", "appears twice"),
    }


def test_event_problems_point_into_the_event_element() -> None:
    extra = (
        '<events><event type="sale"><date>2024-10-08</date></event>'
        '<event type="sale"><date>2024-10-09</date><certificate_no>X</certificate_no></event>'
        '<event type="scrap"><date>2024-10-09</date></event></events>'
    )
    errors = refused(xml(extra=extra))
    assert [e["pointer"] for e in errors] == [
        "/record/events/event[2]/certificate_no",
        "/record/events/event[3]/@type",
    ]


@pytest.mark.parametrize("path", sorted(RECORDS.glob("*.json")), ids=lambda p: p.name)
def test_every_json_fixture_round_trips_through_xml(path: Path) -> None:
    record = read_record_file(path)
    document = write_xml_record(record)
    assert xml_schema().validate(etree.fromstring(document))
    assert read_record(document, "application/xml") == record


def test_shipped_xml_fixture_is_what_the_writer_produces() -> None:
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    assert (RECORDS / "ncm-ev-pack.xml").read_bytes() == write_xml_record(record)


def xsd_paths() -> tuple[set[str], set[str]]:
    """Every path the XSD allows, and the required ones, walking its named types.

    The generic ``<platform_fields><field name="...">`` element allows one path per
    field declared in the platform field table.
    """
    xsd = etree.parse(str(XSD_PATH))
    types = {t.get("name"): t for t in xsd.getroot().iter(f"{XS}complexType")}
    paths: set[str] = set()
    required: set[str] = set()

    def walk(type_name: str, prefix: str) -> None:
        complex_type = types[type_name]
        for attribute in complex_type.findall(f"{XS}attribute"):
            path = f"{prefix}{attribute.get('name')}"
            paths.add(path)
            if attribute.get("use") == "required":
                required.add(path)
        for element in complex_type.findall(f"{XS}all/{XS}element"):
            path = f"{prefix}{element.get('name')}"
            paths.add(path)
            if element.get("minOccurs", "1") != "0":
                required.add(path)
            if element.get("type") == "PlatformFields":
                paths.update(f"{path}.{f.name}" for f in load_platform_fields().fields)
            elif element.get("type") in types:
                walk(element.get("type"), path + ".")
        for element in complex_type.findall(f"{XS}sequence/{XS}element"):
            item = prefix.rstrip(".") + "[]"
            paths.add(item)
            if element.get("type") in types:
                walk(element.get("type"), item + ".")

    walk("Record", "")
    return paths, required


def schema_required() -> set[str]:
    from gateway.records.paths import _fields

    return {path for path, field, _ in _fields() if field.required}


def test_xsd_has_exactly_the_model_fields() -> None:
    paths, required = xsd_paths()
    model = {p for p in field_paths() if not p.startswith("eu_supplement.")}
    assert paths == model
    assert required == schema_required()


def test_xsd_platform_fields_element_is_generic() -> None:
    xsd = etree.parse(str(XSD_PATH))
    types = {t.get("name"): t for t in xsd.getroot().iter(f"{XS}complexType")}
    (item,) = types["PlatformFields"].findall(f"{XS}sequence/{XS}element")
    assert (item.get("name"), item.get("maxOccurs")) == ("field", "unbounded")
    (name,) = types[item.get("type")].iter(f"{XS}attribute")
    assert (name.get("name"), name.get("use")) == ("name", "required")


def test_xsd_namespace_and_enums_are_not_duplicated() -> None:
    text = XSD_PATH.read_text(encoding="utf-8")
    assert f'targetNamespace="{NS}"' in text
    # Value rules live in the record schema only.
    assert "xs:enumeration" not in text and all(f'"{c}"' not in text for c in CATEGORIES)
    assert RECORD_SCHEMA.fields["battery"].required
