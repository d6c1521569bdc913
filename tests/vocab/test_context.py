"""The passport context, alone and together with the VC 2.0 context."""

import json

import pyoxigraph as ox
import pytest
from pyld import jsonld

from gateway.vocab.loader import (
    CREDENTIALS_V2,
    PASSPORT_V1,
    document_loader,
    passport_context_url,
    passport_contexts,
    pinned_contexts,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
CNB = "https://w3id.org/cn-eu-battery/vocab#"

PASSPORT = {
    "@context": [PASSPORT_V1],
    "id": "https://gateway.example/passports/4A6PCPM27KLPCLE742946319",
    "type": "BatteryPassport",
    "accessGroup": "annex-xiii-1",
    "batteryUniqueIdentifier": "4A6PCPM27KLPCLE742946319",
    "ratedCapacity": "150",
    "nominalVoltage": "3.2",
    "manufacturingDate": "2024-07",
    "placedOnMarketDate": "2024-09-01",
    "expectedLifetimeCycles": 3000,
    "euDeclarationOfConformity": "https://gateway.example/docs/doc.pdf",
    "batteryCategory": "ev",
}


def _credential(subject: dict) -> dict:
    return {
        "@context": [CREDENTIALS_V2, PASSPORT_V1],
        "id": "urn:uuid:7f0d5a0e-1c1f-4d6e-9d53-2b8f3c1e9a10",
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2024-07-01T00:00:00Z",
        "name": "EU battery passport",
        "mappingSet": "gbt34014-eu",
        "mappingVersion": "1.0.0",
        "mappingHash": "sha256:" + "0" * 64,
        "credentialSubject": {k: v for k, v in subject.items() if k != "@context"},
    }


def _expand(document: dict) -> list:
    dropped: list = []
    out = jsonld.expand(
        document,
        {"documentLoader": document_loader()},
        on_property_dropped=dropped.append,
    )
    assert dropped == []
    return out


def test_credential_with_v2_and_passport_context_expands():
    expanded = _expand(_credential(PASSPORT))
    credential = expanded[0]
    assert CNB + "BatteryPassportCredential" in credential["@type"]
    assert credential[CNB + "mappingVersion"] == [{"@value": "1.0.0"}]
    subject = credential["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject["@type"] == [CNB + "BatteryPassport"]
    assert subject[CNB + "ratedCapacity"] == [{"@value": "150", "@type": XSD + "decimal"}]
    assert subject[CNB + "manufacturingDate"] == [
        {"@value": "2024-07", "@type": XSD + "gYearMonth"}
    ]
    assert subject[CNB + "expectedLifetimeCycles"] == [{"@value": 3000, "@type": XSD + "integer"}]
    assert subject[CNB + "batteryCategory"] == [{"@value": "ev"}]


def test_export_approvals_expand_under_v2_only():
    document = _credential(PASSPORT)
    document["@context"] = [CREDENTIALS_V2, passport_context_url(2)]
    document["exportApproval"] = ["CAC-SA-2026-0042", "SCC-2026-7"]
    credential = _expand(document)[0]
    assert credential[CNB + "exportApproval"] == [
        {"@value": "CAC-SA-2026-0042"},
        {"@value": "SCC-2026-7"},
    ]
    document["@context"] = [CREDENTIALS_V2, PASSPORT_V1]
    with pytest.raises(AssertionError):  # v1 has no such term: it would be dropped
        _expand(document)


@pytest.mark.parametrize("url", passport_contexts())
def test_no_vc_term_is_redefined(url):
    v2 = pinned_contexts()[CREDENTIALS_V2]["@context"]
    ours = pinned_contexts()[url]["@context"]
    shared = set(v2) & set(ours) - {"@protected"}
    assert shared == {"id", "type"}
    for term in shared:
        assert ours[term] == v2[term]


def test_a_redefined_vc_term_would_be_caught():
    # The check above means something: pyld refuses to redefine a protected v2 term.
    document = _credential(PASSPORT)
    document["@context"] = [CREDENTIALS_V2, {"name": "https://example.org/name"}]
    with pytest.raises(jsonld.JsonLdError, match="[Pp]rotected"):
        _expand(document)


def test_passport_terms_are_protected():
    document = dict(PASSPORT)
    document["@context"] = [PASSPORT_V1, {"ratedCapacity": "https://example.org/capacity"}]
    with pytest.raises(jsonld.JsonLdError, match="[Pp]rotected"):
        _expand(document)


def test_rdf_agrees_with_an_independent_processor():
    # pyoxigraph has its own JSON-LD parser; it is given the context inline, as it
    # has no hook for the pinned loader.
    nquads = jsonld.to_rdf(
        _expand(PASSPORT), {"format": "application/n-quads", "documentLoader": document_loader()}
    )
    ours = set(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS))
    inline = dict(PASSPORT, **{"@context": pinned_contexts()[PASSPORT_V1]["@context"]})
    theirs = set(ox.parse(json.dumps(inline).encode(), format=ox.RdfFormat.JSON_LD))
    assert ours == theirs
    capacity = next(q for q in theirs if q.predicate.value == CNB + "ratedCapacity")
    assert capacity.object == ox.Literal("150", datatype=ox.NamedNode(XSD + "decimal"))
