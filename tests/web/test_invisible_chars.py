"""Bidirectional controls and zero-width characters: refused in records, shown as visible
code points on the pages for anything stored before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway import services
from gateway.errors import InvalidRecord
from gateway.invisible_chars import INVISIBLE, neutralise
from gateway.records import read_record, read_record_file
from tests.helpers import RECORDS, issue_keys, make_app

CODE_POINTS = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    # Also invisible, also able to make two names look the same (format characters,
    # Unicode general category Cf): the soft hyphen, the Mongolian vowel separator, the
    # invisible operators and the tag characters ("ASCII smuggling").
    "\u00ad",
    "\u180e",
    "\u2061",
    "\u2062",
    "\u2063",
    "\u2064",
    "\U000e0001",
    "\U000e0041",
    "\U000e007f",
]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


def _record_with(name: str) -> dict:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    record["manufacturer"]["name"] = name
    return record


@pytest.mark.parametrize("char", CODE_POINTS)
def test_record_text_with_an_invisible_character_is_refused(char):
    with pytest.raises(InvalidRecord) as caught:
        read_record(json.dumps(_record_with(f"ACME{char}Cells")).encode(), "application/json")
    problem = caught.value.to_problem()
    assert problem["pointer"] == "/manufacturer/name"
    message = problem["errors"][0]["message"]
    assert f"U+{ord(char):04X}" in message and "at offset 4" in message
    assert char not in json.dumps(problem, ensure_ascii=False)


def test_eu_supplement_and_xml_text_are_refused_too():
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    record["eu_supplement"]["cf_performance_class"] = "\u2067B"
    with pytest.raises(InvalidRecord) as caught:
        read_record(json.dumps(record).encode(), "application/json")
    assert caught.value.pointer == "/eu_supplement/cf_performance_class"
    assert "U+2067" in str(caught.value)
    xml = (RECORDS / "ncm-ev-pack.xml").read_text(encoding="utf-8")
    name = read_record_file(RECORDS / "ncm-ev-pack.xml")["manufacturer"]["name"]
    with pytest.raises(InvalidRecord, match="U\\+202E"):
        read_record(xml.replace(name, name + "\u202e", 1).encode(), "application/xml")


def test_api_answers_422_naming_field_and_code_point(app):
    keys = issue_keys(app.extensions["gateway.settings"])
    refused = app.test_client().post(
        "/passports",
        data=json.dumps(_record_with("ACME\u202eslleC")),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["pointer"] == "/manufacturer/name" and "U+202E" in body["detail"]


def test_stored_values_are_shown_as_visible_code_points(app):
    # A passport stored before the rule: issued from a record that skipped the door.
    instance = app.extensions["gateway.instance"]
    issue_keys(app.extensions["gateway.settings"])
    exporter = services.console_principal(instance, "acme")
    name = "ACME \u202eslleC\u202c Ltd\u200b"
    issued = services.issue_passport(instance, _record_with(name), principal=exporter)
    code = issued.passport.battery_code
    page = app.test_client().get(f"/passports/{code}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert not INVISIBLE.search(text)
    assert "ACME [U+202E]slleC[U+202C] Ltd[U+200B]" in text
    label = app.test_client().get(f"/passports/{code}/label")
    assert label.status_code == 200 and not INVISIBLE.search(label.get_data(as_text=True))


def test_neutralise_reaches_nested_values():
    assert neutralise({"a": ["x\u2066"], "b": 1}) == {"a": ["x[U+2066]"], "b": 1}
