"""The generated vocabulary agrees with the catalog CSV."""

import json
import subprocess
import sys

import pyoxigraph as ox
import pytest
from rdflib import RDF, SH, SKOS, XSD, Graph, Literal, Namespace, URIRef

from gateway.paths import CONTEXTS_DIR, ROOT, VOCAB_DIR
from gateway.vocab import build
from gateway.vocab.catalog import load_catalog
from gateway.vocab.loader import PASSPORT_V1, pinned_contexts

CNB = Namespace("https://w3id.org/cn-eu-battery/vocab#")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("vocab")
    written = build.build(out)
    return out, written


def test_vocab_agrees_with_the_csv(built):
    out, written = built
    assert sorted(written) == sorted(
        ["cn-eu-battery.ttl", "shapes.ttl", "contexts/passport-v1.jsonld", "contexts/index.json"]
    )
    for rel in written:
        assert (out / rel).read_bytes() == (VOCAB_DIR / rel).read_bytes(), (
            f"vocab/{rel} is out of date: run `make vocab`"
        )
    assert build.main(["--check"]) == 0


def test_check_reports_a_stale_file(built, tmp_path):
    out, written = built
    for rel in written:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes((out / rel).read_bytes())
    assert build.stale(tmp_path) == []
    (tmp_path / "shapes.ttl").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "contexts/passport-v1.jsonld").unlink()
    assert build.stale(tmp_path) == ["shapes.ttl", "contexts/passport-v1.jsonld"]


def test_vocabulary_has_every_row():
    catalog = load_catalog()
    g = Graph().parse(VOCAB_DIR / "cn-eu-battery.ttl", format="turtle")
    keys = {str(o) for o in g.objects(None, CNB.catalogKey)}
    assert keys == {a.key for a in catalog} and len(keys) == 119
    for a in catalog:
        p = URIRef(a.iri)
        assert (p, RDF.type, RDF.Property) in g
        assert g.value(p, CNB.catalogKey) == Literal(a.key)
        assert str(g.value(p, CNB.accessGroup)) == a.access_group
        assert str(g.value(p, CNB.obligationEv)) == a.obligation("ev")
        matches = set(g.objects(p, SKOS.closeMatch)) | set(g.objects(p, SKOS.relatedMatch))
        assert {str(m) for m in matches} == {*a.batterypass_urns, *a.idta_urns}
        assert not set(g.objects(p, SKOS.exactMatch))
    # An independent Turtle parser reads the same number of triples.
    store = ox.Store()
    store.load(path=str(VOCAB_DIR / "cn-eu-battery.ttl"), format=ox.RdfFormat.TURTLE)
    assert len(store) == len(g)


def test_single_property_is_close_several_are_related():
    g = Graph().parse(VOCAB_DIR / "cn-eu-battery.ttl", format="turtle")
    assert (
        CNB.ratedCapacity,
        SKOS.closeMatch,
        URIRef("urn:samm:io.BatteryPass.Performance:1.2.1#ratedCapacity"),
    ) in g
    address = set(g.objects(CNB.manufacturerPostalAddress, SKOS.relatedMatch))
    assert URIRef("urn:samm:io.BatteryPass.GeneralProductInformation:1.2.0#postalCode") in address


def test_context_has_every_row():
    context = json.loads((CONTEXTS_DIR / "passport-v1.jsonld").read_text(encoding="utf-8"))
    terms = context["@context"]
    assert terms["@version"] == 1.1 and terms["@protected"] is True
    catalog = load_catalog()
    for a in catalog:
        assert terms[a.term]["@id"] == a.iri
        expected = a.xsd.replace(str(XSD), "xsd:") if a.xsd else None
        assert terms[a.term].get("@type") == expected
    attribute_terms = [t for t in terms if t in catalog.by_term]
    assert len(attribute_terms) == 119


def test_shapes_have_every_row():
    g = Graph().parse(VOCAB_DIR / "shapes.ttl", format="turtle")
    node = URIRef("https://w3id.org/cn-eu-battery/shapes#BatteryPassportShape")
    assert g.value(node, SH.targetClass) == CNB.BatteryPassport
    assert g.value(node, SH.closed) == Literal(True)
    paths = {g.value(shape, SH.path): shape for shape in g.objects(node, SH.property)}
    for a in load_catalog():
        shape = paths[URIRef(a.iri)]
        assert g.value(shape, SH.datatype) == URIRef(a.xsd or XSD.string)
        assert g.value(shape, SH.nodeKind) == SH.Literal
    assert len(paths) == 119 + len(build.STRUCTURAL_TERMS)


def test_index_pins_the_generated_context():
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    assert index[PASSPORT_V1]["file"] == "passport-v1.jsonld"
    # The W3C copies keep their entries.
    assert index["https://www.w3.org/ns/credentials/v2"]["sha256"] == (
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    )
    assert len(index) == 5
    assert PASSPORT_V1 in pinned_contexts()


def test_build_check_is_stable_across_hash_seeds():
    for seed in ("0", "4242"):
        result = subprocess.run(
            [sys.executable, "-m", "gateway.vocab.build", "--check"],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
