"""Passport context v3: units, measurement times, languages, codes and links survive
JSON-LD expansion and RDF conversion by two independent processors (pyld and
pyoxigraph), nothing is dropped, and the graph has no blank nodes."""

from __future__ import annotations

import copy
from typing import Any

import pyoxigraph as ox
import pytest
from pyld import jsonld

from gateway.credentials import rdfc
from gateway.credentials.safe_mode import check_document
from gateway.credentials.verify import passport_checks
from gateway.errors import JsonLdError
from gateway.vocab.build import QUANTITY_TERMS
from gateway.vocab.catalog import QUANTITY_MEMBER_TERMS, load_catalog
from gateway.vocab.forms import (
    is_quantity,
    json_values,
    language_texts,
    plain_value,
    quantity_id,
)
from gateway.vocab.loader import CREDENTIALS_V2, default_loader, passport_context_url
from gateway.vocab.shapes import check_shapes
from gateway.vocab.units import units

V3 = passport_context_url(3)
XSD = "http://www.w3.org/2001/XMLSchema#"
CNB = "https://w3id.org/cn-eu-battery/vocab#"
SCHEMA = "https://schema.org/"
QUDT_UNIT = "http://qudt.org/vocab/unit/"
ID = "https://gateway.example/passports/Z9ZPEN8K52S96AE740000319"

PUBLIC = {
    "@context": [V3],
    "id": ID,
    "type": "BatteryPassport",
    "accessGroup": "annex-xiii-1",
    "batteryPassportId": ID,
    "batteryUniqueIdentifier": "Z9ZPEN8K52S96AE740000319",
    "manufacturerName": {
        "en": "Mindong Example Power Battery Co., Ltd.",
        "zh": "闽东示例动力电池有限公司",
    },
    "manufacturerPostalAddress": {"zh": "福建省宁德市蕉城北路88号"},
    "batteryCategory": "ev",
    "ratedCapacity": {
        "id": quantity_id(ID, "ratedCapacity"),
        "value": "150",
        "unitCode": "AMH",
        "unit": QUDT_UNIT + "A-HR",
    },
    "absoluteCarbonFootprint": {
        "id": quantity_id(ID, "absoluteCarbonFootprint"),
        "value": 4,
        "unitText": "tCO2e",
    },
    "expectedLifetimeCycles": 2000,
    "predecessorPassportId": "https://gateway.example/passports/Z9ZPEN8K52S96AE740000318",
}
INDIVIDUAL = {
    "@context": [V3],
    "id": ID,
    "type": "BatteryPassport",
    "accessGroup": "annex-xiii-4",
    "stateOfCharge": {
        "id": quantity_id(ID, "stateOfCharge"),
        "value": "62.5",
        "unitCode": "P1",
        "unit": QUDT_UNIT + "PERCENT",
        "measuredAt": "2026-04-30T00:00:00Z",
    },
    "numberOfFullCycles": {
        "id": quantity_id(ID, "numberOfFullCycles"),
        "value": 412,
        "measuredAt": "2026-04-30T00:00:00Z",
    },
}


def _quads(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    nquads = rdfc.canonicalize(document, fast=False)
    store = ox.Store()
    store.load(nquads.encode(), format=ox.RdfFormat.N_QUADS)
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in store}


@pytest.mark.parametrize("document", [PUBLIC, INDIVIDUAL], ids=["point 1", "point 4"])
def test_expansion_drops_nothing_and_makes_no_blank_node(document: dict[str, Any]) -> None:
    dropped: list[Any] = []
    jsonld.expand(
        copy.deepcopy(document),
        {"documentLoader": default_loader()},
        on_property_dropped=dropped.append,
    )
    assert dropped == []
    check_document(document, default_loader())  # safe mode: nothing dropped or ill-formed
    nquads = rdfc.canonicalize(document, fast=False)
    assert "_:" not in nquads
    # pyoxigraph's canonicalizer (the fast path) writes the same bytes
    assert rdfc.canonicalize(document) == nquads


def test_units_survive_expansion() -> None:
    quads = _quads(PUBLIC)
    node = f"<{ID}#ratedCapacity>"
    assert (f"<{ID}>", f"<{CNB}ratedCapacity>", node) in quads
    assert (node, f"<{SCHEMA}value>", f'"150"^^<{XSD}decimal>') in quads
    assert (node, f"<{SCHEMA}unitCode>", '"AMH"') in quads
    assert (node, "<http://qudt.org/schema/qudt/hasUnit>", f"<{QUDT_UNIT}A-HR>") in quads
    footprint = f"<{ID}#absoluteCarbonFootprint>"
    assert (footprint, f"<{SCHEMA}value>", f'"4"^^<{XSD}integer>') in quads
    assert (footprint, f"<{SCHEMA}unitText>", '"tCO2e"') in quads


def test_measurement_times_survive_expansion() -> None:
    quads = _quads(INDIVIDUAL)
    moment = f'"2026-04-30T00:00:00Z"^^<{XSD}dateTime>'
    for term in ("stateOfCharge", "numberOfFullCycles"):
        assert (f"<{ID}#{term}>", f"<{CNB}measuredAt>", moment) in quads
    assert (f"<{ID}#numberOfFullCycles>", f"<{SCHEMA}value>", f'"412"^^<{XSD}integer>') in quads


def test_language_tags_survive_expansion() -> None:
    quads = _quads(PUBLIC)
    name = f"<{CNB}manufacturerName>"
    assert (f"<{ID}>", name, '"Mindong Example Power Battery Co., Ltd."@en') in quads
    assert (f"<{ID}>", name, '"闽东示例动力电池有限公司"@zh') in quads
    assert (
        f"<{ID}>",
        f"<{CNB}manufacturerPostalAddress>",
        '"福建省宁德市蕉城北路88号"@zh',
    ) in quads


def test_codes_and_links_are_iris() -> None:
    quads = _quads(PUBLIC)
    assert (f"<{ID}>", f"<{CNB}batteryCategory>", f"<{CNB}ev>") in quads
    assert (f"<{ID}>", f"<{CNB}batteryPassportId>", f"<{ID}>") in quads
    predecessor = "<https://gateway.example/passports/Z9ZPEN8K52S96AE740000318>"
    assert (f"<{ID}>", f"<{CNB}predecessorPassportId>", predecessor) in quads


def test_a_credential_with_the_vc_context_expands_too() -> None:
    credential = {
        "@context": [CREDENTIALS_V2, V3],
        "id": "urn:uuid:7f0d5a0e-1c1f-4d6e-9d53-2b8f3c1e9a10",
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2026-07-01T00:00:00Z",
        "credentialSubject": {k: v for k, v in PUBLIC.items() if k != "@context"},
    }
    check_document(credential, default_loader())
    assert "_:" not in rdfc.canonicalize(credential, fast=False)


@pytest.mark.parametrize("document", [PUBLIC, INDIVIDUAL], ids=["point 1", "point 4"])
def test_shapes_accept_the_v3_forms(document: dict[str, Any]) -> None:
    assert check_shapes(document) == []


@pytest.mark.parametrize(
    "term, value, expected",
    [
        ("ratedCapacity", {"id": f"{ID}#ratedCapacity", "value": "150"}, "ratedCapacity"),
        (
            "ratedCapacity",
            {"id": f"{ID}#ratedCapacity", "value": "150", "unitCode": "KWH"},
            "ratedCapacity",
        ),
        ("ratedCapacity", {"id": f"{ID}#ratedCapacity", "value": 150, "unitCode": "AMH"}, None),
        ("batteryCategory", "portable", "batteryCategory"),
    ],
    ids=["no unit", "wrong unit", "number for a decimal", "unknown code"],
)
def test_shapes_refuse_wrong_v3_forms(term: str, value: Any, expected: str | None) -> None:
    document = {**copy.deepcopy(PUBLIC), term: value}
    if term == "batteryCategory":
        # not a term of the code list: JSON-LD makes it a relative IRI, which both
        # canonicalization paths refuse
        with pytest.raises(JsonLdError):
            rdfc.canonicalize(document, fast=False)
        with pytest.raises(JsonLdError):
            rdfc.canonicalize(document)
        return
    problems = check_shapes(document)
    assert problems
    if expected:
        assert any(p.startswith(expected) for p in problems), problems


def test_every_catalog_unit_has_a_code_or_text() -> None:
    for a in load_catalog():
        if a.unit:
            unit = units()[a.unit]
            assert unit.rec20 or unit.qudt or unit.text, a.key
        if not a.static:
            assert is_quantity(a), a.key  # every dynamic value can carry its time


def test_plain_values_read_every_version_alike() -> None:
    assert plain_value(PUBLIC["ratedCapacity"]) == "150"
    assert plain_value(PUBLIC["manufacturerName"]) == "Mindong Example Power Battery Co., Ltd."
    assert plain_value(PUBLIC["manufacturerName"], "zh") == "闽东示例动力电池有限公司"
    assert plain_value(PUBLIC["manufacturerPostalAddress"]) == "福建省宁德市蕉城北路88号"
    assert plain_value("150") == "150"
    assert language_texts(PUBLIC["manufacturerName"], "zh") == [
        "闽东示例动力电池有限公司",
        "Mindong Example Power Battery Co., Ltd.",
    ]
    assert language_texts(PUBLIC["ratedCapacity"]) is None
    assert json_values(PUBLIC["manufacturerName"]) == [
        "Mindong Example Power Battery Co., Ltd.",
        "闽东示例动力电池有限公司",
    ]
    assert json_values(INDIVIDUAL["numberOfFullCycles"]) == [412]
    assert json_values({"id": f"{ID}#informationOnAccidents", "value": ["a", "b"]}) == ["a", "b"]


def _credential(subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, V3],
        "id": "urn:uuid:7f0d5a0e-1c1f-4d6e-9d53-2b8f3c1e9a10",
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2026-07-01T00:00:00Z",
        "accessGroup": subject["accessGroup"],
        "mappingSet": "cn-trace-to-eu-passport",
        "mappingVersion": "1.1.0",
        "mappingHash": "sha256:" + "0" * 64,
        "credentialSubject": {
            k: v for k, v in subject.items() if k not in ("@context", "accessGroup")
        },
    }


def test_catalog_conformance_reads_the_v3_forms() -> None:
    for document in (PUBLIC, INDIVIDUAL):
        checks = passport_checks(_credential(document))
        assert all(c.ok for c in checks), checks
    wrong = copy.deepcopy(PUBLIC)
    wrong["ratedCapacity"]["value"] = 150  # a JSON number where a decimal string belongs
    wrong["manufacturerName"]["zh"] = 7
    [vocabulary, _] = passport_checks(_credential(wrong))
    assert not vocabulary.ok
    assert "/credentialSubject/ratedCapacity: 150 is not a JSON decimal-string" in vocabulary.reason
    assert "/credentialSubject/manufacturerName: 7 is not a JSON string" in vocabulary.reason


def test_quantity_members_are_reserved() -> None:
    defined = {term for term, _, _ in QUANTITY_TERMS} | {"value"}
    assert defined == QUANTITY_MEMBER_TERMS
    assert not QUANTITY_MEMBER_TERMS & set(load_catalog().by_term)
