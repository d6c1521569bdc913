"""RDFC-1.0 canonicalization: W3C vectors, fast path = pyld, strictness, caps."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.credentials import rdfc
from gateway.credentials.jsonld import expand_strict
from gateway.errors import ContextError, JsonLdError
from gateway.paths import FIXTURES_DIR
from gateway.vocab.loader import (
    CREDENTIALS_V2,
    PASSPORT_V1,
    document_loader,
    passport_context_url,
)

VECTORS = FIXTURES_DIR / "vectors"
EDDSA = VECTORS / "w3c-vc-di-eddsa"
DERIVED = VECTORS / "derived"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
TEST_CONTEXT = "https://test.example/contexts/passport-like/v1"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _json(path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


TEST_CONTEXT_DOC = {
    "@context": {
        "@protected": True,
        "ex": "https://test.example/vocab#",
        "label": "ex:label",
        "count": {"@id": "ex:count", "@type": f"{XSD}integer"},
        "mass": {"@id": "ex:mass", "@type": f"{XSD}decimal"},
        "share": {"@id": "ex:share", "@type": f"{XSD}decimal"},
        "part": {"@id": "ex:part"},
        "event": {"@id": "ex:event"},
        "site": {"@id": "ex:site", "@type": "@id"},
        "flag": "ex:flag",
    }
}

EXTRA = {
    EXAMPLES_V2: _json(EDDSA / "contexts/credentials-examples-v2.jsonld"),
    "https://w3id.org/citizenship/v4rc1": _json(EDDSA / "contexts/citizenship-v4rc1.jsonld"),
    "https://battery-passport.example/contexts/v1": _json(
        DERIVED / "contexts/battery-passport-example-v1.jsonld"
    ),
    TEST_CONTEXT: TEST_CONTEXT_DOC,
}
LOADER = document_loader(extra=EXTRA)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("TestVectors/unsigned.json", "TestVectors/eddsa-rdfc-2022/canonDocDataInt.txt"),
        (
            "TestVectors/eddsa-rdfc-2022/proofConfigDataInt.json",
            "TestVectors/eddsa-rdfc-2022/proofCanonDataInt.txt",
        ),
        (
            "TestVectors/eddsa-rdfc-2022/employ/proofConfigDataInt.json",
            "TestVectors/eddsa-rdfc-2022/employ/proofCanonDataInt.txt",
        ),
    ],
)
def test_w3c_canonical_forms(document: str, expected: str, fast: bool) -> None:
    out = rdfc.canonicalize(_json(EDDSA / document), loader=LOADER, fast=fast)
    assert out == (EDDSA / expected).read_text(encoding="utf-8")


@pytest.mark.parametrize("fast", [True, False])
def test_w3c_employ_document(fast: bool) -> None:
    signed = _json(EDDSA / "TestVectors/eddsa-rdfc-2022/employ/signedDataInt.json")
    signed.pop("proof")
    expected = (EDDSA / "TestVectors/eddsa-rdfc-2022/employ/canonDocDataInt.txt").read_text()
    assert rdfc.canonicalize(signed, loader=LOADER, fast=fast, untrusted=True) == expected


def test_derived_battery_explained_form() -> None:
    explain = _json(DERIVED / "di/battery.explain.json")
    doc = _json(DERIVED / "di/battery.json")
    doc.pop("proof")
    loader = document_loader(
        extra={**EXTRA, "https://battery-passport.example/status/1": {"@context": {}}}
    )
    # holds a JSON float: the fast path must step aside and pyld's form come out
    assert rdfc.fast_path_blocker(doc, loader) is not None
    assert rdfc.canonicalize(doc, loader=loader) == explain["canonicalDocument"]


@pytest.mark.parametrize(
    ("value", "blocked"),
    [
        (75.5, True),
        (3000, False),
        (2**53, True),
        ("a\x01b", True),
        ("tab\tand\nnewline", False),
        ("电池 Ünïcode 🔋", False),
        ({"@value": "x", "@direction": "rtl", "@language": "ar"}, True),
    ],
)
def test_fast_path_guard(value: Any, blocked: bool) -> None:
    doc = {"@context": {"@version": 1.1, "p": "https://test.example/p"}, "p": value}
    assert (rdfc.fast_path_blocker(doc, LOADER) is not None) is blocked
    if isinstance(value, dict) and "@direction" in value:
        # JSON-LD to RDF drops @direction: refused on both paths rather than unsigned
        for fast in (True, False):
            with pytest.raises(JsonLdError, match="/p/@direction"):
                rdfc.canonicalize(doc, loader=LOADER, fast=fast)
        return
    assert rdfc.canonicalize(doc, loader=LOADER) == rdfc.canonicalize(
        doc, loader=LOADER, fast=False
    )


def test_guard_sees_json_typed_terms_of_remote_contexts() -> None:
    doc = {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiableCredential"],
        "credentialSchema": {
            "id": "https://test.example/schema",
            "type": "JsonSchema",
            "jsonSchema": {"b": 1, "a": "x"},
        },
    }
    assert "jsonSchema" in (rdfc.fast_path_blocker(doc, LOADER) or "")
    assert rdfc.canonicalize(doc, loader=LOADER) == rdfc.canonicalize(
        doc, loader=LOADER, fast=False
    )


@pytest.mark.parametrize("fast", [True, False])
def test_injected_undefined_term_refused(fast: bool) -> None:
    doc = _json(DERIVED / "di/injected-undefined-term.json")
    doc.pop("proof")
    doc["credentialSubject"]["ratedCapacityKWh"] = "75.5"  # keep the fast path open
    with pytest.raises(JsonLdError) as caught:
        rdfc.canonicalize(doc, loader=LOADER, fast=fast)
    assert caught.value.extensions["rule"] == "dropped-term"
    assert "stateOfHealth" in caught.value.detail
    with pytest.raises(JsonLdError, match="stateOfHealth"):
        expand_strict(doc, loader=LOADER)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    "document",
    [
        {"@context": [CREDENTIALS_V2], "id": "relative/path", "type": "VerifiableCredential"},
        {"@context": [CREDENTIALS_V2], "type": ["VerifiableCredential", "NoSuchType"]},
        {"@context": [CREDENTIALS_V2], "issuer": "issuers/1", "type": "VerifiableCredential"},
    ],
)
def test_relative_iris_refused(document: dict, fast: bool) -> None:
    with pytest.raises(JsonLdError) as caught:
        rdfc.canonicalize(document, loader=LOADER, fast=fast)
    assert caught.value.extensions["rule"] == "relative-iri"
    with pytest.raises(JsonLdError) as expanded:
        expand_strict(document, loader=LOADER)
    assert expanded.value.pointer


@pytest.mark.parametrize("fast", [True, False])
def test_unknown_remote_context_refused_offline(fast: bool, no_network: None) -> None:
    doc = {"@context": [CREDENTIALS_V2, "https://evil.example/ctx"], "type": "Thing"}
    with pytest.raises(ContextError, match="evil.example"):
        rdfc.canonicalize(doc, loader=LOADER, fast=fast)
    with pytest.raises(ContextError):
        expand_strict(doc, loader=LOADER)


def test_default_loader_serves_only_pinned(no_network: None) -> None:
    with pytest.raises(ContextError):
        rdfc.canonicalize(_json(EDDSA / "TestVectors/unsigned.json"))


def test_loaders_do_not_share_cached_contexts() -> None:
    doc = {"@context": ["https://test.example/ctx"], "p": "v"}
    one = document_loader(extra={"https://test.example/ctx": {"@context": {"p": "urn:one"}}})
    two = document_loader(extra={"https://test.example/ctx": {"@context": {"p": "urn:two"}}})
    assert "urn:one" in rdfc.canonicalize(doc, loader=one, fast=False)
    assert "urn:two" in rdfc.canonicalize(doc, loader=two, fast=False)


def _clique(n: int) -> dict:
    context = {"link": {"@id": "https://test.example/link", "@type": "@id"}}
    nodes = [{"@id": f"_:n{i}", "link": [f"_:n{j}" for j in range(n) if j != i]} for i in range(n)]
    return {"@context": context, "@graph": nodes}


def test_blank_node_bomb_refused() -> None:
    with pytest.raises(JsonLdError) as caught:
        rdfc.canonicalize(_clique(9), loader=LOADER, untrusted=True)
    assert caught.value.extensions["rule"] == "limit"


def test_symmetric_but_small_graph_accepted() -> None:
    out = rdfc.canonicalize(_clique(3), loader=LOADER, untrusted=True)
    assert out == rdfc.canonicalize(_clique(3), loader=LOADER, fast=False)


def test_size_and_blank_node_caps() -> None:
    doc = {"@context": {"p": "https://test.example/p"}, "p": [{"p": str(i)} for i in range(50)]}
    with pytest.raises(JsonLdError, match="bytes"):
        rdfc.canonicalize(doc, loader=LOADER, untrusted=True, limits=rdfc.Limits(max_bytes=100))
    with pytest.raises(JsonLdError, match="blank nodes"):
        rdfc.canonicalize(
            doc, loader=LOADER, untrusted=True, limits=rdfc.Limits(max_blank_nodes=10)
        )


# -- property: fast path and pyld agree byte for byte -------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
)  # lone surrogates are not valid in JSON text
_decimal = st.decimals(
    min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False, places=4
).map(str)
_int = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)


def _leaf_fields() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "label": st.one_of(_text, st.lists(_text, max_size=3)),
            "count": _int,
            "mass": _decimal,
            "share": _decimal,
            "flag": st.booleans(),
            "site": st.sampled_from(["https://test.example/site/1", "urn:uuid:1234", "did:x:y"]),
        },
    )


_part = st.recursive(
    _leaf_fields(),
    lambda inner: st.builds(
        lambda base, parts: {**base, "part": parts} if parts else base,
        _leaf_fields(),
        st.lists(inner, max_size=3),
    ),
    max_leaves=12,
)


@st.composite
def passport_like(draw: st.DrawFn) -> dict:
    subject = draw(_part)
    subject["id"] = "https://test.example/passport/" + draw(
        st.from_regex(r"[A-Z0-9]{8}", fullmatch=True)
    )
    subject["event"] = draw(st.lists(_leaf_fields(), max_size=4))
    doc = {
        "@context": [CREDENTIALS_V2, TEST_CONTEXT],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": subject,
    }
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(passport_like())
def test_fast_path_equals_pyld(document: dict) -> None:
    fast = rdfc.canonicalize(document, loader=LOADER)
    reference = rdfc.canonicalize(document, loader=LOADER, fast=False)
    assert fast == reference
    scan = rdfc._Scan(LOADER)
    if scan.run(document) is None:
        # the fast path really ran, rather than handing over to pyld
        direct = rdfc._canonicalize_oxigraph(
            document, LOADER, None, deep=scan.nested_context, used=scan.used
        )
        assert direct == reference


def test_passport_context_decimal_strings_take_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = {
        "@context": [CREDENTIALS_V2, PASSPORT_V1],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000002",
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "credentialSubject": {
            "id": "https://test.example/passport/1",
            "batteryMass": "412.50",
            "carbonFootprintPerFu": "61.3",
        },
    }
    assert rdfc.fast_path_blocker(doc, LOADER) is None
    reference = rdfc.canonicalize(doc, loader=LOADER, fast=False)
    monkeypatch.setattr(rdfc, "_canonicalize_pyld", None)  # any hand-over would fail
    out = rdfc.canonicalize(doc, loader=LOADER, untrusted=True)
    assert out == reference
    assert f'"412.50"^^<{XSD}decimal>' in out


def test_section_credential_with_approvals_takes_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = {
        "@context": [CREDENTIALS_V2, passport_context_url(2)],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000003",
        "type": ["VerifiableCredential", "BatteryPassportCredential"],
        "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "accessGroup": "annex-xiii-4",
        "exportApproval": ["CAC-SA-2026-0042", "SCC-2026-7"],
        "credentialSubject": {"id": "https://test.example/passport/1", "stateOfHealth": "96.8"},
    }
    assert rdfc.fast_path_blocker(doc, LOADER) is None
    reference = rdfc.canonicalize(doc, loader=LOADER, fast=False)
    monkeypatch.setattr(rdfc, "_canonicalize_pyld", None)  # any hand-over would fail
    out = rdfc.canonicalize(doc, loader=LOADER, untrusted=True)
    assert out == reference
    approval = "<https://w3id.org/cn-eu-battery/vocab#exportApproval>"
    assert f'{approval} "CAC-SA-2026-0042"' in out and f'{approval} "SCC-2026-7"' in out
