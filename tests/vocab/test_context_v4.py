"""Passport context v4: a battery's length, width and height are named parts of its
physical dimensions, each a quantity node with its unit. Nothing is dropped by JSON-LD
expansion, the parts and units survive RDF conversion by two independent processors
(pyld and pyoxigraph) with no blank node, the shapes and the catalog conformance check
read the form, and the national record fills it through mapping 1.2.0."""

from __future__ import annotations

import copy
import json
from typing import Any

import pyoxigraph as ox
import pytest
from pyld import jsonld

from gateway.credentials import rdfc
from gateway.credentials.safe_mode import check_document
from gateway.credentials.verify import passport_checks
from gateway.paths import CONTEXTS_DIR
from gateway.services import draft_passport
from gateway.vocab.forms import json_values, language_texts, part_id, plain_value, quantity_id
from gateway.vocab.loader import (
    CREDENTIALS_V2,
    current_passport_context,
    default_loader,
    passport_context_url,
)
from gateway.vocab.shapes import check_shapes
from tests.helpers import BASE_URL, RECORDS

V4 = passport_context_url(4)
XSD = "http://www.w3.org/2001/XMLSchema#"
CNB = "https://w3id.org/cn-eu-battery/vocab#"
SCHEMA = "https://schema.org/"
MILLIMETRE = "http://qudt.org/vocab/unit/MilliM"
ID = "https://gateway.example/passports/Z9ZPEN8K52S96AE740000319"
MAPPING = "cn-trace-to-eu-passport@1.2.0"


def _part(name: str, value: Any) -> dict[str, Any]:
    return {
        "id": part_id(ID, "physicalDimensions", name),
        "value": value,
        "unitCode": "MMT",
        "unit": MILLIMETRE,
    }


DIMENSIONS = {
    "id": quantity_id(ID, "physicalDimensions"),
    "length": _part("length", "1650"),
    "width": _part("width", "1200"),
    "height": _part("height", "140"),
}
PUBLIC = {
    "@context": [V4],
    "id": ID,
    "type": "BatteryPassport",
    "accessGroup": "annex-xiii-1",
    "batteryCategory": "ev",
    "physicalDimensions": DIMENSIONS,
}
#: One declared figure, as context v3 writes a quantity: v4 keeps that form.
DECLARED = {
    **PUBLIC,
    "physicalDimensions": {
        "id": quantity_id(ID, "physicalDimensions"),
        "value": "1650",
        "unitCode": "MMT",
        "unit": MILLIMETRE,
    },
}


def _quads(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    nquads = rdfc.canonicalize(document, fast=False)
    store = ox.Store()
    store.load(nquads.encode(), format=ox.RdfFormat.N_QUADS)
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in store}


@pytest.mark.parametrize("document", [PUBLIC, DECLARED], ids=["parts", "one figure"])
def test_expansion_drops_nothing_and_makes_no_blank_node(document: dict[str, Any]) -> None:
    dropped: list[Any] = []
    jsonld.expand(
        copy.deepcopy(document),
        {"documentLoader": default_loader()},
        on_property_dropped=dropped.append,
    )
    assert dropped == []
    check_document(document, default_loader())
    nquads = rdfc.canonicalize(document, fast=False)
    assert "_:" not in nquads
    assert rdfc.canonicalize(document) == nquads  # pyoxigraph's canonicalizer agrees


def test_parts_and_units_survive_expansion() -> None:
    quads = _quads(PUBLIC)
    node = f"<{ID}#physicalDimensions>"
    assert (f"<{ID}>", f"<{CNB}physicalDimensions>", node) in quads
    for name, value in (("length", "1650"), ("width", "1200"), ("height", "140")):
        part = f"<{ID}#physicalDimensions-{name}>"
        assert (node, f"<{CNB}{name}>", part) in quads
        assert (part, f"<{SCHEMA}value>", f'"{value}"^^<{XSD}decimal>') in quads
        assert (part, f"<{SCHEMA}unitCode>", '"MMT"') in quads
        assert (part, "<http://qudt.org/schema/qudt/hasUnit>", f"<{MILLIMETRE}>") in quads
    # the parts are told apart by name, not by an order RDF does not keep
    assert not any(p == f"<{SCHEMA}value>" and s == node for s, p, _ in quads)


@pytest.mark.parametrize("document", [PUBLIC, DECLARED], ids=["parts", "one figure"])
def test_shapes_accept_both_forms(document: dict[str, Any]) -> None:
    assert check_shapes(document) == []


@pytest.mark.parametrize(
    "change",
    [
        {"height": {**_part("height", "140"), "unitCode": "CMT"}},
        {"height": {k: v for k, v in _part("height", "140").items() if k != "unitCode"}},
        {"height": _part("height", "1.4E2")},
        {"value": "1650"},
    ],
    ids=["wrong unit", "no unit", "not a decimal", "parts and one figure"],
)
def test_shapes_refuse_wrong_parts(change: dict[str, Any]) -> None:
    document = copy.deepcopy(PUBLIC)
    document["physicalDimensions"].update(change)
    problems = check_shapes(document)
    assert any(p.startswith("physicalDimensions") for p in problems), problems


def _credential(subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, V4],
        "id": "urn:uuid:7f0d5a0e-1c1f-4d6e-9d53-2b8f3c1e9a10",
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2026-07-01T00:00:00Z",
        "accessGroup": subject["accessGroup"],
        "mappingSet": "cn-trace-to-eu-passport",
        "mappingVersion": "1.2.0",
        "mappingHash": "sha256:" + "0" * 64,
        "credentialSubject": {
            k: v for k, v in subject.items() if k not in ("@context", "accessGroup")
        },
    }


def test_catalog_conformance_reads_the_parts() -> None:
    assert all(c.ok for c in passport_checks(_credential(PUBLIC)))
    wrong = copy.deepcopy(PUBLIC)
    wrong["physicalDimensions"]["width"]["value"] = 1200
    [vocabulary, _] = passport_checks(_credential(wrong))
    assert not vocabulary.ok
    assert "physicalDimensions: 1200 is not a JSON decimal-string" in vocabulary.reason


def test_plain_values_list_the_parts_in_order() -> None:
    assert plain_value(DIMENSIONS) == ["1650", "1200", "140"]
    assert json_values(DIMENSIONS) == ["1650", "1200", "140"]
    assert language_texts(DIMENSIONS) is None
    assert plain_value(DECLARED["physicalDimensions"]) == "1650"


def test_mapping_1_2_0_fills_the_parts_from_the_national_record() -> None:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
    [result] = [r for r in draft.conversion.results if r.attribute.key == "physical_dimensions"]
    assert (result.status, result.origin) == ("filled", "national")
    dimensions = record["battery"]["dimensions_mm"]
    assert result.value == {k: dimensions[k] for k in ("length", "width", "height")}
    document = draft.documents["annex-xiii-1"]
    assert document["@context"] == [current_passport_context()] == [V4]
    member = document["physicalDimensions"]
    pid = draft.conversion.passport_id
    assert member["id"] == quantity_id(pid, "physicalDimensions")
    assert member["height"] == {
        "id": part_id(pid, "physicalDimensions", "height"),
        "value": dimensions["height"],
        "unitCode": "MMT",
        "unit": MILLIMETRE,
    }
    assert check_shapes(document) == []


def test_a_record_without_dimensions_falls_back_to_the_declared_figure() -> None:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    del record["battery"]["dimensions_mm"]
    record.setdefault("eu_supplement", {})["physical_dimensions"] = "1650"
    draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
    [result] = [r for r in draft.conversion.results if r.attribute.key == "physical_dimensions"]
    assert (result.status, result.origin, result.value) == ("filled", "supplement", "1650")
    member = draft.documents["annex-xiii-1"]["physicalDimensions"]
    assert member["value"] == "1650" and member["unitCode"] == "MMT"
    assert check_shapes(draft.documents["annex-xiii-1"]) == []


def test_a_partial_record_publishes_the_parts_it_has() -> None:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    record["battery"]["dimensions_mm"] = {"length": "1650.0", "height": "140"}
    draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
    member = draft.documents["annex-xiii-1"]["physicalDimensions"]
    assert set(member) == {"id", "length", "height"}
    assert member["length"]["value"] == "1650"  # canonical decimal text


def test_the_contexts_route_and_commands_serve_v4(client, runner) -> None:
    response = client.get("/contexts/passport-v4")
    assert response.status_code == 200
    assert json.loads(response.data) == json.loads(
        (CONTEXTS_DIR / "passport-v4.jsonld").read_text(encoding="utf-8")
    )
    listed = {c["url"]: c for c in client.get("/contexts").get_json()["items"]}
    assert listed[V4]["name"] == "passport-v4"
    result = runner.invoke(args=["contexts", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert V4 in {c["url"] for c in json.loads(result.output)}
    assert client.get("/contexts/passport-v5").status_code == 404
