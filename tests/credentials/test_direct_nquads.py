"""Direct N-Quads: the canonical form read off the gateway's own credentials is, byte for
byte, what the RDFC-1.0 canonicalizers give (pyld, the reference, and the pyoxigraph
path); any document it does not cover is left to them, and signing gives the same proof
either way."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bench.records import RecordFactory
from gateway.credentials import data_integrity, rdfc
from gateway.credentials.direct_nquads import (
    _IRIS_KEPT,
    _PLAIN_IRI,
    _root_scope,
    canonical_nquads,
)
from gateway.credentials.lexical import is_absolute_iri
from gateway.credentials.model import build_credential
from gateway.errors import ContextError, GatewayError, JsonLdError
from gateway.records import read_record, read_record_file
from gateway.services import draft_passport
from gateway.vocab.loader import (
    CREDENTIALS_V2,
    default_loader,
    document_loader,
    passport_contexts,
    pinned_contexts,
)
from tests.credentials.own_credentials import (
    CREATED,
    ISSUER,
    KEY,
    MAPPING,
    STATUS,
    UNCOVERED,
    VM,
    assert_same_bytes,
    credentials,
    set_member,
)
from tests.helpers import BASE_URL, RECORDS

XSD = "http://www.w3.org/2001/XMLSchema#"

#: A context with the JSON-LD features the emitter leaves to the canonicalizers.
ODD_CONTEXT = "https://test.example/contexts/odd/v1"
ODD = {
    "@context": {
        "ex": "https://test.example/vocab#",
        "plain": "ex:plain",
        "double": {"@id": "ex:double", "@type": f"{XSD}double"},
        "json": {"@id": "ex:json", "@type": "@json"},
        "english": {"@id": "ex:english", "@language": "en"},
        "ordered": {"@id": "ex:ordered", "@container": "@list"},
        "vocabTyped": {"@id": "ex:vocabTyped", "@type": "@vocab"},
        "scoped": {"@id": "ex:scoped", "@context": {"inner": "ex:inner"}},
        "link": {"@id": "ex:link", "@type": "@id"},
        "texts": {"@id": "ex:texts", "@container": "@language"},
        "none": "@none",
        "flag": {"@id": "ex:flag", "@type": f"{XSD}string"},
        "Thing": "ex:Thing",
    }
}
LOADER = document_loader(extra={ODD_CONTEXT: ODD})


@pytest.mark.parametrize(
    "path", sorted(RECORDS.glob("*.json")) + sorted(RECORDS.glob("*.xml")), ids=lambda p: p.name
)
def test_fixture_credentials_are_emitted_byte_for_byte(path: Path) -> None:
    # 1.1.0 writes names in two languages (language maps) and dated dynamic values;
    # 1.2.0 the battery's dimensions as named parts (context v4)
    for mapping in (MAPPING, "cn-trace-to-eu-passport@1.1.0", "cn-trace-to-eu-passport@1.2.0"):
        draft = draft_passport(read_record_file(path), mapping=mapping, base_url=BASE_URL)
        for credential in credentials(draft):
            assert_same_bytes(credential)


@pytest.mark.parametrize("cells", [1, 96, 1536])
def test_generated_records_are_emitted_byte_for_byte(cells: int) -> None:
    # Unique codes, decimals, Chinese and accented text with quotes and backslashes,
    # month dates, lists of varying length; several records per cell count.
    factory = RecordFactory(cells, seed=cells)
    for index in range(4 if cells > 96 else 12):
        record = read_record(factory.line(index), "application/json")
        draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
        for credential in credentials(draft):
            text = assert_same_bytes(credential)
            assert "_:" not in text


def _sample(definition: Any) -> Any:
    coercion = definition.get("@type") if isinstance(definition, dict) else None
    if coercion == "@vocab":
        return sorted(definition["@context"])[0]  # a code of the term's list
    return {
        "@id": "https://a.example/linked",
        f"{XSD}decimal": "12.5",
        "xsd:decimal": "-0.0070",
        "xsd:integer": 42,
        "xsd:anyURI": "https://battery.example.cn/a?b=c#d",
        "xsd:gYearMonth": "2031-12",
        "xsd:date": "2024-07-04",
    }.get(coercion, 'text with "quotes", a \\ backslash, a tab\tand 中文')


@pytest.mark.parametrize("context", passport_contexts())
def test_every_term_of_every_pinned_passport_context(context: str) -> None:
    # The emitter reads the terms from the context the credential names: a context
    # version pinned later (with new terms) is covered as it is.
    terms = pinned_contexts()[context]["@context"]
    subject: dict[str, Any] = {"@context": [context], "type": "BatteryPassport"}
    for term, definition in terms.items():
        if term[:1] == "@" or not isinstance(definition, dict) or term[0].isupper():
            continue
        subject[term] = _sample(definition)
    subject["testReportsCompliance"] = ["https://a.example/1", "https://a.example/2"]
    credential = build_credential(
        subject,
        issuer=ISSUER,
        passport_id=f"{BASE_URL}/passports/Z9ZPEN8K52S96AE740000319",
        access_group="annex-xiii-1",
        mapping={"set": "s", "version": "1.0.0", "hash": "sha256:00"},
        status=copy.deepcopy(STATUS),
        valid_from=CREATED,
    )
    assert credential["@context"][-1] == context
    assert_same_bytes(credential)


def _credential() -> dict[str, Any]:
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
    return next(c for c in credentials(draft) if "credentialStatus" in c)


def test_signing_takes_the_direct_path_and_gives_the_reference_proof() -> None:
    credential = _credential()
    direct = data_integrity.add_proof(credential, KEY, VM, created=CREATED)
    reference = data_integrity.add_proof(credential, KEY, VM, created=CREATED, fast=False)
    assert direct == reference
    checks = data_integrity.verify_proof(direct, lambda _: KEY.public_key(), fast=False)
    assert all(c.ok for c in checks), checks
    jcs = data_integrity.add_proof(
        credential, KEY, VM, created=CREATED, cryptosuite=data_integrity.JCS
    )
    assert all(c.ok for c in data_integrity.verify_proof(jcs, lambda _: KEY.public_key()))


@pytest.mark.parametrize("case", sorted(UNCOVERED))
def test_documents_it_does_not_cover_go_to_the_canonicalizers(case: str) -> None:
    path, value = UNCOVERED[case]
    document = set_member(_credential(), path, value)
    assert canonical_nquads(document, default_loader()) is None
    # Signing still works, or fails, exactly as the general path decides.
    try:
        expected = data_integrity.add_proof(document, KEY, VM, created=CREATED, fast=False)
    except Exception as exc:  # noqa: BLE001 - whatever the general path raises
        # a refusal keeps its kind; a lone surrogate fails in either path, differently
        with pytest.raises(type(exc) if isinstance(exc, GatewayError) else Exception):
            data_integrity.add_proof(document, KEY, VM, created=CREATED)
    else:
        assert data_integrity.add_proof(document, KEY, VM, created=CREATED) == expected


@pytest.mark.parametrize(
    "term, value",
    [
        ("double", "1.5"),
        ("json", {"a": 1}),
        ("english", "colour"),
        ("ordered", ["b", "a"]),
        ("vocabTyped", "NotATerm"),
        ("texts", {"EN": "upper-case tag"}),
        ("texts", {"none": "a term standing for @none"}),
        ("texts", [{"en": "a language map in an array"}]),
    ],
)
def test_terms_it_does_not_cover_go_to_the_canonicalizers(term: str, value: Any) -> None:
    document = {
        "@context": [CREDENTIALS_V2, ODD_CONTEXT],
        "id": "urn:uuid:0b1c4a52-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": "https://x.example/s", "plain": "p", term: value},
    }
    assert canonical_nquads(document, LOADER) is None
    document["credentialSubject"].pop(term)
    assert canonical_nquads(document, LOADER) == rdfc.canonicalize(
        document, loader=LOADER, fast=False
    )


@pytest.mark.parametrize(
    "term, value",
    [
        ("vocabTyped", "Thing"),
        ("scoped", {"id": "https://x.example/1", "inner": "x"}),
        ("scoped", [{"id": "https://x.example/1", "inner": "x"}, "text"]),
        ("texts", {"en": "colour", "zh": ["颜色", 'a "quoted" word']}),
        ("texts", {"zh-hans": "简体"}),
        ("texts", "a plain string under a language container"),
    ],
)
def test_scoped_contexts_codes_and_language_maps_are_emitted(term: str, value: Any) -> None:
    document = {
        "@context": [CREDENTIALS_V2, ODD_CONTEXT],
        "id": "urn:uuid:0b1c4a52-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": "https://x.example/s", term: value},
    }
    emitted = canonical_nquads(document, LOADER)
    assert emitted is not None
    assert emitted == rdfc.canonicalize(document, loader=LOADER, fast=False)


@pytest.mark.parametrize(
    "node_id, covered",
    [
        ("https://x.example/s#ratedCapacity", True),
        ("https://x.example/s#physicalDimensions-length", True),
        ("https://x.example/s#a-", True),
        ("https://x.example/s#-a", True),
        ("https://x.example/s#", True),
        ("https://x.example/s#a/../b", False),
        ("https://x.example/s#a b", False),
        ("https://x.example/s#rated#capacity", False),
    ],
)
def test_nodes_named_after_their_subject(node_id: str, covered: bool) -> None:
    document = {
        "@context": [CREDENTIALS_V2, ODD_CONTEXT],
        "id": "urn:uuid:0b1c4a52-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {
            "id": "https://x.example/s",
            "scoped": {"id": node_id, "inner": "12.5", "link": "https://x.example/u"},
        },
    }
    emitted = canonical_nquads(document, LOADER)
    assert (emitted is not None) == covered
    if covered:
        assert emitted == rdfc.canonicalize(document, loader=LOADER, fast=False)


def test_remembered_iris_are_bounded_and_written_as_before() -> None:
    """A scope remembers the IRIs it wrote (units, issuer, status lists repeat in every
    credential), at most a bounded number: ids that are new in every document start
    it over rather than grow it."""
    urls = (CREDENTIALS_V2, ODD_CONTEXT)
    for n in range(3 * _IRIS_KEPT):
        document = {
            "@context": list(urls),
            "id": f"urn:uuid:0b1c4a52-0000-4000-8000-{n:012d}",
            "type": ["VerifiableCredential"],
            "issuer": ISSUER,
            "credentialSubject": {
                "id": f"https://x.example/s/{n}",
                "scoped": {"id": f"https://x.example/s/{n}#q", "link": "https://x.example/u"},
            },
        }
        emitted = canonical_nquads(document, LOADER)
        if n % _IRIS_KEPT in (0, 1, _IRIS_KEPT - 1):
            assert emitted == rdfc.canonicalize(document, loader=LOADER, fast=False)
    scope = _root_scope(LOADER, urls)
    assert scope is not None
    assert 0 < len(scope._iris) <= _IRIS_KEPT
    assert scope.node_iri("https://x.example/u") == "<https://x.example/u>"
    assert scope.node_iri("_:b0") is None
    long = "https://x.example/" + "a" * 600
    assert scope.node_iri(long) == f"<{long}>"
    assert long not in scope._iris


def _v3_member(term: str, definition: dict[str, Any], passport_id: str) -> Any:
    """A value of ``term`` in the form context v3 gives it."""
    scoped = definition.get("@context", {})
    if "value" in scoped:
        node: dict[str, Any] = {
            "id": f"{passport_id}#{term}",
            "value": _sample(scoped["value"]),
            "unitCode": "KWH",
            "unit": "http://qudt.org/vocab/unit/KiloW-HR",
            "unitText": 'kg "CO2e"',
            "measuredAt": "2026-04-30T00:00:00Z",
        }
        return node
    if definition.get("@type") == "@vocab":
        return sorted(scoped)[0]
    if definition.get("@type") == "@id":
        return f"{passport_id}/{term}"
    if definition.get("@container") == "@language":
        return {"en": "Ningde \\ works", "zh": ["宁德", "第二"]}
    return _sample(definition)


def test_every_term_of_context_v3_in_its_v3_form() -> None:
    context = passport_contexts()[-1]
    terms = pinned_contexts()[context]["@context"]
    passport_id = f"{BASE_URL}/passports/Z9ZPEN8K52S96AE740000319"
    subject: dict[str, Any] = {"@context": [context], "type": "BatteryPassport"}
    for term, definition in terms.items():
        if term[:1] == "@" or not isinstance(definition, dict) or term[0].isupper():
            continue
        if term in ("measuredAt", "unitCode", "unitText", "unit"):
            continue  # members of quantity nodes
        subject[term] = _v3_member(term, definition, passport_id)
    assert any(isinstance(v, dict) and "value" in v for v in subject.values())
    credential = build_credential(
        subject,
        issuer=ISSUER,
        passport_id=passport_id,
        access_group="annex-xiii-1",
        mapping={"set": "s", "version": "1.0.0", "hash": "sha256:00"},
        status=copy.deepcopy(STATUS),
        valid_from=CREATED,
    )
    text = assert_same_bytes(credential)
    assert "_:" not in text
    assert '"宁德"@zh' in text and "<https://schema.org/unitCode>" in text


# -- any document: the emitter answers only with the reference's bytes -------------------

#: Terms it covers (passport, VC and test contexts), and everything else.
_COVERED_TERMS = (
    "batteryMass",
    "batteryChemistry",
    "expectedLifetimeCycles",
    "manufacturerWebAddress",
    "manufacturingDate",
    "testReportsCompliance",
    "name",
    "description",
    "plain",
    "link",
    "flag",
    "scoped",
    "inner",
    "texts",
    # defined by type-scoped contexts only: VerifiableCredential, BitstringStatusListEntry
    "issuer",
    "validFrom",
    "statusPurpose",
)
_NODE_TYPES = st.sampled_from(
    [None, "Thing", "BatteryPassport", ["VerifiableCredential"], "BitstringStatusListEntry"]
)
_OTHER_TERMS = ("double", "json", "english", "ordered", "vocabTyped", "notATerm", "ex:compact")
_GOOD_IRIS = st.sampled_from(
    [
        "https://x.example/a",
        "https://x.example/%C3%A9?q=1#f",
        "urn:uuid:0b1c4a52-0000-4000-8000-000000000002",
        "did:web:gw.example",
        "https://x.example/中文",
    ]
)
_IRIS = _GOOD_IRIS | st.sampled_from(
    [
        "https://x.example/a/./b",
        "ex:short",
        "_:b1",
        "relative/path",
        "https://bad host/",
        "BatteryPassport",
        "Thing",
        "@keyword",
    ]
)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=12)
_CLEAN = (
    (_TEXT | st.text(st.sampled_from('a"\\\t\n\r中'), max_size=6))
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.booleans()
    | _GOOD_IRIS
)
_ANY = (
    st.text(st.characters(codec="utf-8") | st.sampled_from('"\\\t\n\r\x0b\x7f'), max_size=12)
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
    | _IRIS
)


def _documents(
    terms: st.SearchStrategy[str], scalars: st.SearchStrategy[Any], iris: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    def nodes(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda props, node_id, kind: {
                **props,
                "id": node_id,
                **({"type": kind} if kind else {}),
            },
            st.dictionaries(terms, children, max_size=5),
            iris,
            _NODE_TYPES,
        )

    values = st.recursive(
        scalars,
        lambda inner: nodes(inner) | st.lists(scalars | nodes(inner), min_size=1, max_size=3),
        max_leaves=8,
    )
    return nodes(values)


_CLEAN_SUBJECTS = _documents(st.sampled_from(_COVERED_TERMS), _CLEAN, _GOOD_IRIS)
_ANY_SUBJECTS = _documents(
    st.sampled_from(_COVERED_TERMS + _OTHER_TERMS + ("id", "type", "@id", "@type")),
    _ANY | st.lists(_ANY, max_size=2) | st.just({"plain": "no id"}) | st.just([]),
    _IRIS,
)
# two draws in three from documents mostly covered, so that both answers are exercised
_SUBJECTS = st.one_of(_CLEAN_SUBJECTS, _CLEAN_SUBJECTS, _ANY_SUBJECTS)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    subject=_SUBJECTS,
    types=st.sampled_from(
        [
            ["VerifiableCredential"],
            ["VerifiableCredential", "Thing"],
            ["BatteryPassportCredential", "VerifiableCredential"],
            "BatteryPassport",
        ]
    ),
    contexts=st.sampled_from(
        [
            [CREDENTIALS_V2, passport_contexts()[-1], ODD_CONTEXT],
            [CREDENTIALS_V2, passport_contexts()[0], ODD_CONTEXT],
            [ODD_CONTEXT, CREDENTIALS_V2, passport_contexts()[-1]],
            [CREDENTIALS_V2, ODD_CONTEXT],
        ]
    ),
)
def test_any_document_is_emitted_as_the_reference_does_or_not_at_all(
    subject: dict[str, Any], types: Any, contexts: list[str]
) -> None:
    document: dict[str, Any] = {
        "@context": contexts,
        "id": "urn:uuid:0b1c4a52-0000-4000-8000-000000000003",
        "issuer": ISSUER,
        "credentialSubject": subject,
    }
    document["type"] = types
    emitted = canonical_nquads(document, LOADER)
    event("covered" if emitted is not None else "left to the canonicalizers")
    if emitted is None:
        return
    try:
        reference = rdfc.canonicalize(document, loader=LOADER, fast=False)
    except (JsonLdError, ContextError) as exc:  # pragma: no cover - shown on failure
        pytest.fail(f"emitted {emitted!r} for a document the reference refuses: {exc}")
    assert emitted == reference


@settings(max_examples=3000, deadline=None)
@given(
    st.text(alphabet="ab:/#?@%[].-_~!$&'()*+,;=0189 Aé", max_size=24).map(
        lambda s: ("https://" + s) if s.startswith("x") else s
    )
)
def test_plain_iris_are_absolute_iris_of_the_full_grammar(value: str) -> None:
    # The emitter's shortcut for common IRIs may only accept what the full grammar does.
    if _PLAIN_IRI.fullmatch(value):
        assert is_absolute_iri(value), value


@pytest.mark.parametrize(
    "value",
    [
        "https://gw.example/passports/01A#batteryMass",
        "https://gw.example:8443/a/b/",
        "http://qudt.org/vocab/unit/KiloW-HR",
        "urn:uuid:0b1c4a52-0000-4000-8000-000000000003",
        "did:web:gw.example",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6Mk",
        "a:b//c",
        "a://",
    ],
)
def test_plain_iris_take_the_shortcut(value: str) -> None:
    assert _PLAIN_IRI.fullmatch(value) and is_absolute_iri(value)
