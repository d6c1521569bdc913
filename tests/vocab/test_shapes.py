"""SHACL shapes over passport documents and credentials."""

import pytest

from gateway.errors import JsonLdError
from gateway.vocab.loader import CREDENTIALS_V2, PASSPORT_V1
from gateway.vocab.shapes import check_shapes

GOOD = {
    "@context": [PASSPORT_V1],
    "id": "https://gateway.example/passports/4A6PCPM27KLPCLE742946319",
    "type": "BatteryPassport",
    "accessGroup": "annex-xiii-1",
    "batteryUniqueIdentifier": "4A6PCPM27KLPCLE742946319",
    "batteryCode": "4A6PCPM27KLPCLE742946319",
    "ratedCapacity": "150",
    "nominalVoltage": "3.2",
    "initialInternalResistanceCell": "0.0007",
    "manufacturingDate": "2024-07",
    "placedOnMarketDate": "2024-09-01",
    "expectedLifetimeCycles": 3000,
    "euDeclarationOfConformity": "https://gateway.example/docs/doc.pdf",
    "batteryCategory": "ev",
}


def _with(**changes):
    return {**GOOD, **changes}


def _only(violations: list[str], term: str) -> list[str]:
    assert violations, "expected violations"
    assert all(v.startswith(term) for v in violations), violations
    return violations


def test_good_passport_conforms():
    assert check_shapes(GOOD) == []


def test_good_credential_conforms():
    credential = {
        "@context": [CREDENTIALS_V2, PASSPORT_V1],
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2024-07-01T00:00:00Z",
        "mappingSet": "gbt34014-eu",
        "mappingVersion": "1.0.0",
        "mappingHash": "sha256:" + "0" * 64,
        "credentialSubject": {k: v for k, v in GOOD.items() if k != "@context"},
    }
    assert check_shapes(credential) == []


def test_integer_where_decimal_expected():
    violations = _only(check_shapes(_with(ratedCapacity=150)), "ratedCapacity")
    assert any("JSON number 150" in v for v in violations)


def test_typed_integer_where_decimal_expected():
    value = {"@value": "150", "@type": "http://www.w3.org/2001/XMLSchema#integer"}
    [violation] = check_shapes(_with(ratedCapacity=value))
    assert violation.startswith("ratedCapacity: expects a decimal number")
    assert '"150"^^xsd:integer' in violation


def test_json_float_is_refused_by_json_and_by_lexical_form():
    violations = _only(check_shapes(_with(nominalVoltage=3.2)), "nominalVoltage")
    assert any("JSON float" in v for v in violations)
    # JSON-LD writes the float as "3.2E0", which is no xsd:decimal lexical form.
    assert any('"3.2E0"^^xsd:decimal' in v for v in violations)


def test_unknown_term_is_reported_not_dropped():
    [violation] = check_shapes(_with(fooBar="x"))
    assert violation.startswith("fooBar: not defined by any context")


def test_unknown_absolute_property_breaks_the_closed_shape():
    [violation] = check_shapes({**GOOD, "https://example.org/extra": "y"})
    assert violation.startswith("https://example.org/extra: the property is not in")


@pytest.mark.parametrize(
    ("term", "value"),
    [
        ("manufacturingDate", "2024-13"),
        ("manufacturingDate", "2024-07-01"),
        ("placedOnMarketDate", "2024-9-1"),
        ("expectedLifetimeCycles", "3000"),
        ("expectedLifetimeCycles", 2**53),
        ("accessGroup", "everyone"),
        ("batteryCategory", {"@value": "ev", "@language": "en"}),
    ],
)
def test_bad_values(term, value):
    _only(check_shapes(_with(**{term: value})), term)


def test_access_group_is_required():
    document = {k: v for k, v in GOOD.items() if k != "accessGroup"}
    _only(check_shapes(document), "accessGroup")


def test_document_without_a_passport_node():
    document = {k: v for k, v in GOOD.items() if k != "type"}
    assert check_shapes(document) == ["document: no node of type BatteryPassport"]


def test_unpinned_context_is_refused():
    with pytest.raises(JsonLdError):
        check_shapes(_with(**{"@context": ["https://example.org/other"]}))
