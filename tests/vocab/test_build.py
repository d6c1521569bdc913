"""The generated vocabulary agrees with the catalog CSV."""

import hashlib
import json
import shutil
import subprocess
import sys

import pyoxigraph as ox
import pytest
from rdflib import RDF, SH, SKOS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from gateway.errors import ContextError
from gateway.paths import CONTEXTS_DIR, ROOT, VOCAB_DIR
from gateway.vocab import build
from gateway.vocab.catalog import RESERVED_TERMS, Catalog, load_catalog
from gateway.vocab.forms import CODE_TERMS, LINK_TERMS, is_quantity, is_text
from gateway.vocab.loader import (
    PASSPORT_V1,
    passport_context_url,
    passport_context_version,
    passport_contexts,
    pinned_contexts,
)
from gateway.vocab.units import units

CNB = Namespace("https://w3id.org/cn-eu-battery/vocab#")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("vocab")
    shutil.copytree(CONTEXTS_DIR, out / "contexts")  # the published contexts
    build.build(out)
    return out, list(build.artifacts(vocab_dir=out))


def test_vocab_agrees_with_the_csv(built):
    out, written = built
    assert sorted(written) == sorted(
        ["cn-eu-battery.ttl", "shapes.ttl", "contexts/passport-v4.jsonld", "contexts/index.json"]
    )
    for rel in written:
        assert (out / rel).read_bytes() == (VOCAB_DIR / rel).read_bytes(), (
            f"vocab/{rel} is out of date: run `make vocab`"
        )
    assert build.main(["--check"]) == 0


def test_check_reports_a_stale_file(built, tmp_path):
    out, _ = built
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    assert build.stale(tmp_path) == []
    (tmp_path / "shapes.ttl").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "contexts/passport-v1.jsonld").unlink()
    assert build.stale(tmp_path) == ["shapes.ttl", "contexts/passport-v1.jsonld"]


def test_vocabulary_has_every_row():
    catalog = load_catalog()
    g = Graph().parse(VOCAB_DIR / "cn-eu-battery.ttl", format="turtle")
    keys = {str(o) for o in g.objects(None, CNB.catalogKey)}
    assert keys == {a.key for a in catalog} and len(keys) == len(catalog.attributes)
    for a in catalog:
        p = URIRef(a.iri)
        assert (p, RDF.type, RDF.Property) in g
        assert g.value(p, CNB.catalogKey) == Literal(a.key)
        # The Annex XIII point is stated in the vocabulary, not in the context.
        assert g.value(p, CNB.annexXIIIPoint) == Literal(a.point)
        assert g.value(p, CNB.accessGroup) is None
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


@pytest.mark.parametrize("version", [1, 2, 3])
def test_context_has_every_row(version):
    name = f"passport-v{version}.jsonld"
    context = json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))
    terms = context["@context"]
    assert terms["@version"] == 1.1 and terms["@protected"] is True
    catalog = load_catalog()
    for a in catalog:
        assert terms[a.term]["@id"] == a.iri
        expected = a.xsd.replace(str(XSD), "xsd:") if a.xsd else None
        if version >= 3 and is_quantity(a):
            # the datatype moves to the quantity node's value
            assert terms[a.term]["@context"]["value"].get("@type") == expected
        elif version < 3 or not (is_text(a) or a.term in LINK_TERMS | CODE_TERMS):
            assert terms[a.term].get("@type") == expected
    attribute_terms = [t for t in terms if t in catalog.by_term]
    assert len(attribute_terms) == len(catalog.attributes)


def test_shapes_have_every_row():
    g = Graph().parse(VOCAB_DIR / "shapes.ttl", format="turtle")
    node = URIRef("https://w3id.org/cn-eu-battery/shapes#BatteryPassportShape")
    assert g.value(node, SH.targetClass) == CNB.BatteryPassport
    assert g.value(node, SH.closed) == Literal(True)
    paths = {g.value(shape, SH.path): shape for shape in g.objects(node, SH.property)}
    catalog = load_catalog()
    for a in catalog:
        shape = paths[URIRef(a.iri)]
        forms = g.value(shape, SH["or"])
        if forms is not None:  # the literal of v1 and v2, or the form of v3
            shape = next(iter(Collection(g, forms)))
        assert g.value(shape, SH.datatype) == URIRef(a.xsd or XSD.string)
        assert g.value(shape, SH.nodeKind) == SH.Literal
    assert len(paths) == len(catalog.attributes) + len(build.STRUCTURAL_TERMS)


def test_index_pins_the_generated_context():
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    assert index[PASSPORT_V1]["file"] == "passport-v1.jsonld"
    # The W3C copies keep their entries.
    assert index["https://www.w3.org/ns/credentials/v2"]["sha256"] == (
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    )
    assert index[passport_context_url(2)]["file"] == "passport-v2.jsonld"
    assert index[passport_context_url(3)]["file"] == "passport-v3.jsonld"
    assert index[passport_context_url(4)]["file"] == "passport-v4.jsonld"
    assert len(index) == 8
    assert PASSPORT_V1 in pinned_contexts()
    assert passport_context_url(2) in pinned_contexts()


#: What context v2 adds to v1: the export approvals and the EN 18223 metadata block.
V2_TERMS = (
    "exportApproval",
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "dppStatus",
    "lastUpdate",
    "economicOperatorId",
    "facilityId",
    "contentSpecificationIds",
)


def test_v2_adds_export_approval_and_the_en_18223_metadata_and_nothing_else():
    def terms(version):
        path = CONTEXTS_DIR / f"passport-v{version}.jsonld"
        return json.loads(path.read_text(encoding="utf-8"))["@context"]

    v1, v2 = terms(1), terms(2)
    assert {k: v for k, v in v2.items() if k not in V2_TERMS} == v1
    assert v2["exportApproval"] == {"@id": str(CNB.exportApproval)}
    assert v2["lastUpdate"] == {"@id": str(CNB.lastUpdate), "@type": "xsd:dateTime"}
    assert all(v2[t] == {"@id": str(CNB[t])} for t in V2_TERMS if t != "lastUpdate")
    assert set(V2_TERMS) <= RESERVED_TERMS
    # Points are stated in the vocabulary only: no term of the context carries one.
    assert not any("annexXIIIPoint" in json.dumps(v) for v in v2.values())


def test_v3_writes_units_languages_codes_and_links_and_keeps_every_v2_term():
    def terms(version):
        path = CONTEXTS_DIR / f"passport-v{version}.jsonld"
        return json.loads(path.read_text(encoding="utf-8"))["@context"]

    v2, v3 = terms(2), terms(3)
    assert set(v2) <= set(v3)
    assert set(v3) - set(v2) == {term for term, _, _ in build.QUANTITY_TERMS}
    # structural terms unchanged; attribute terms keep their IRIs
    assert all(v3[t] == v2[t] for t in V2_TERMS)
    assert v3["ratedCapacity"] == {
        "@id": str(CNB.ratedCapacity),
        "@context": {"value": {"@id": "https://schema.org/value", "@type": "xsd:decimal"}},
    }
    assert v3["manufacturerName"] == {
        "@id": str(CNB.manufacturerName),
        "@container": "@language",
    }
    assert v3["batteryPassportId"] == {"@id": str(CNB.batteryPassportId), "@type": "@id"}
    assert v3["predecessorPassportId"]["@type"] == "@id"
    assert v3["batteryCategory"]["@type"] == "@vocab"
    assert set(v3["batteryCategory"]["@context"]) == {"ev", "lmt", "industrial", "stationary"}
    assert v3["measuredAt"] == {"@id": str(CNB.measuredAt), "@type": "xsd:dateTime"}
    assert passport_context_url(3) in passport_contexts()


def test_v4_names_the_parts_of_the_dimensions_and_changes_nothing_else():
    def terms(version):
        path = CONTEXTS_DIR / f"passport-v{version}.jsonld"
        return json.loads(path.read_text(encoding="utf-8"))["@context"]

    v3, v4 = terms(3), terms(4)
    assert set(v4) == set(v3)
    assert {t for t in v4 if v4[t] != v3[t]} == {"physicalDimensions"}
    value = {"@id": "https://schema.org/value", "@type": "xsd:decimal"}
    assert v3["physicalDimensions"]["@context"] == {"value": value}
    assert v4["physicalDimensions"] == {
        "@id": str(CNB.physicalDimensions),
        "@context": {
            "value": value,
            "length": {"@id": str(CNB.length)},
            "width": {"@id": str(CNB.width)},
            "height": {"@id": str(CNB.height)},
        },
    }
    assert passport_contexts()[-1] == passport_context_url(4)
    g = Graph().parse(VOCAB_DIR / "cn-eu-battery.ttl", format="turtle")
    for part in ("length", "width", "height"):
        assert (CNB[part], RDF.type, RDF.Property) in g


def test_category_codes_have_english_and_chinese_labels():
    g = Graph().parse(VOCAB_DIR / "cn-eu-battery.ttl", format="turtle")
    concepts = set(g.subjects(SKOS.inScheme, CNB.BatteryCategory))
    assert concepts == {CNB.ev, CNB.lmt, CNB.industrial, CNB.stationary}
    for concept in concepts:
        labels = {label.language for label in g.objects(concept, SKOS.prefLabel)}
        assert labels == {"en", "zh"}
    assert g.value(CNB.ev, SKOS.notation) == Literal("ev")


def test_units_carry_rec20_codes_and_one_spelling():
    catalog = load_catalog()
    spelled = {a.unit for a in catalog if a.unit}
    assert spelled <= set(units()), "every catalog unit is in vocab/units.csv"
    assert not any("[" in unit for unit in spelled)  # one spelling: tCO2e, not [tCO2e]
    assert units()["kWh"].rec20 == "KWH" and units()["Ah"].rec20 == "AMH"
    assert units()["°C"].qudt == "http://qudt.org/vocab/unit/DEG_C"
    assert units()["tCO2e"].rec20 == ""  # Rec 20 has no CO2-equivalent unit
    g = Graph().parse(VOCAB_DIR / "cn-eu-battery.ttl", format="turtle")
    assert g.value(CNB.ratedCapacity, CNB.unitCode) == Literal("AMH")


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


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_changed_vocabulary_gets_a_new_context_version(tmp_path):
    shutil.copytree(CONTEXTS_DIR, tmp_path / "contexts")
    newest = len(passport_contexts())
    published = {v: (tmp_path / "contexts" / f"passport-v{v}.jsonld") for v in range(1, newest + 1)}
    pins = {v: (path.read_bytes(), _sha256(path)) for v, path in published.items()}
    shipped = load_catalog()
    changed = Catalog.of(shipped.attributes[:-1])  # one attribute withdrawn
    following = newest + 1

    written = build.build(tmp_path, catalog=changed)

    assert f"contexts/passport-v{following}.jsonld" in written
    index = json.loads((tmp_path / "contexts" / "index.json").read_text(encoding="utf-8"))
    for v, path in published.items():
        assert f"contexts/{path.name}" not in written
        assert path.read_bytes() == pins[v][0]
        assert index[passport_context_url(v)] == {"file": path.name, "sha256": pins[v][1]}
    new = tmp_path / "contexts" / f"passport-v{following}.jsonld"
    assert index[passport_context_url(following)] == {"file": new.name, "sha256": _sha256(new)}
    terms = json.loads(new.read_text(encoding="utf-8"))["@context"]
    assert shipped.attributes[-1].term not in terms
    assert shipped.attributes[0].term in terms
    # Built again from the same catalog: up to date, and no further version.
    assert build.stale(tmp_path, catalog=changed) == []
    assert build.build(tmp_path, catalog=changed) == []
    assert not (tmp_path / "contexts" / f"passport-v{following + 1}.jsonld").exists()


def test_an_edited_published_context_is_refused(tmp_path):
    shutil.copytree(CONTEXTS_DIR, tmp_path / "contexts")
    changed = Catalog.of(load_catalog().attributes[:-1])
    build.build(tmp_path, catalog=changed)  # a new version is now the newest
    v1 = tmp_path / "contexts" / "passport-v1.jsonld"
    v1.write_bytes(v1.read_bytes().replace(b"@protected", b"@protected "))
    assert build.stale(tmp_path, catalog=changed) == ["contexts/passport-v1.jsonld"]
    with pytest.raises(ContextError, match="passport-v1.jsonld"):
        build.build(tmp_path, catalog=changed)


def test_passport_context_versions():
    assert passport_contexts()[0] == PASSPORT_V1
    assert passport_context_version(PASSPORT_V1) == 1
    assert passport_context_version(passport_context_url(12)) == 12
    for url in (
        "https://w3id.org/cn-eu-battery/contexts/passport/v01",
        "https://w3id.org/cn-eu-battery/contexts/passport/vx",
        "https://www.w3.org/ns/credentials/v2",
    ):
        assert passport_context_version(url) is None
