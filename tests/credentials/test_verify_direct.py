"""Verifying reads the gateway's own credentials' N-Quads off the JSON, and nothing else.

A covered credential verifies without the general canonicalizer; any change that leaves
the covered part (an unknown member, a foreign term, a blank node, a keyword, a nested
context) goes to the general path, where safe mode refuses it or the signature fails:
unsigned content never verifies. A mutated credential gets the same verdict from the
direct path as from pyld, the reference, alone.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.records import RecordFactory
from gateway.credentials import data_integrity, direct_nquads, rdfc
from gateway.credentials.direct_nquads import canonical_nquads
from gateway.credentials.jose import sign_jwt
from gateway.credentials.verify import verify
from gateway.errors import GatewayError, JsonLdError
from gateway.records import read_record
from gateway.services import draft_passport
from gateway.vocab.loader import default_loader
from tests.credentials.own_credentials import (
    CREATED,
    KEY,
    MAPPING,
    UNCOVERED,
    VM,
    credentials,
    set_member,
)
from tests.helpers import BASE_URL


def _signed() -> dict[str, Any]:
    record = read_record(RecordFactory(24, seed=7).line(3), "application/json")
    draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
    credential = next(c for c in credentials(draft) if "credentialStatus" in c)
    return data_integrity.add_proof(credential, KEY, VM, created=CREATED)


SIGNED = _signed()
#: A passport term the credential uses.
TERM = next(k for k in SIGNED["credentialSubject"] if k not in ("id", "type"))


def _checks(document: dict[str, Any], *, fast: bool = True) -> dict[str, bool]:
    checks = data_integrity.verify_proof(document, lambda _: KEY.public_key(), fast=fast)
    return {c.id: c.ok for c in checks}


@pytest.fixture
def general(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The documents the general canonicalizer is asked for, in order."""
    seen: list[Any] = []
    original = rdfc.canonicalize

    def spy(document: Any, **kw: Any) -> str:
        seen.append(document)
        return original(document, **kw)

    monkeypatch.setattr(rdfc, "canonicalize", spy)
    return seen


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def test_own_credential_verifies_on_the_direct_path(general: list[Any]) -> None:
    checks = _checks(SIGNED)
    assert all(checks.values()), checks
    # only the proof configuration (a blank node) went to the canonicalizer, if anything
    assert all("proof" not in d and "credentialSubject" not in d for d in general)


def test_the_direct_path_is_the_reference_canonical_form() -> None:
    unsecured = _unsecured(SIGNED)
    emitted = canonical_nquads(unsecured, default_loader())
    assert emitted is not None
    assert emitted == rdfc.canonicalize(unsecured, fast=False, untrusted=True)


#: Changes that leave the covered part and that the signature does not cover: where
#: (the path of a member) and its new value (``None``: the member is dropped).
DROP = object()
UNSIGNED: dict[str, tuple[tuple[str | int, ...], Any]] = {
    "unknown member": (("credentialSubject", "notATerm"), "unsigned"),
    "unknown top-level member": (("comment",), "unsigned"),
    "foreign term": (("credentialSubject", "https://evil.example/vocab#claim"), "unsigned"),
    "foreign type": (("credentialSubject", "type"), ["BatteryPassport", "https://evil.example/T"]),
    "blank node": (("credentialSubject", "https://evil.example/vocab#node"), {"x": 1}),
    "status entry made blank": (("credentialStatus", 0, "id"), DROP),
    "keyword member": (("credentialSubject", "@comment"), "unsigned"),
    "index member": (("credentialSubject", "@index"), "unsigned"),
    "nested context": (("credentialSubject", "@context"), {TERM: "https://evil.example/x"}),
}


def _put(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    if value is DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@pytest.mark.parametrize("case", sorted(UNSIGNED))
def test_unsigned_content_goes_to_the_general_path_and_fails(case: str, general: list[Any]) -> None:
    mutated = _put(SIGNED, *UNSIGNED[case])
    emitted = canonical_nquads(_unsecured(mutated), default_loader())
    checks = _checks(mutated)
    assert checks["proof.signature"] is False
    if case == "foreign type":
        # an absolute IRI as a type is covered: it is in the quads, and they are not signed
        assert emitted is not None and "<https://evil.example/T>" in emitted
    else:
        assert emitted is None
        assert any("credentialSubject" in d for d in general), "the general path was not asked"
    assert _checks(mutated, fast=False) == checks


@pytest.mark.parametrize("case", sorted(UNCOVERED))
def test_documents_outside_the_covered_part_never_verify(case: str) -> None:
    path, value = UNCOVERED[case]
    if path == "proof":
        return  # the proof is the signature, not the signed document
    mutated = set_member(SIGNED, path, value)
    checks = _checks(mutated)
    assert _checks(mutated, fast=False) == checks
    if checks["proof.signature"]:
        # only a change that writes no RDF (an empty array) keeps the signed quads
        assert _reference(mutated) == _reference(SIGNED)


def _reference(document: dict[str, Any]) -> str:
    return rdfc.canonicalize(_unsecured(document), fast=False)


def test_safe_mode_still_refuses_with_the_pointer() -> None:
    mutated = _put(SIGNED, ("credentialSubject", "@comment"), "unsigned")
    checks = data_integrity.verify_proof(mutated, lambda _: KEY.public_key())
    terms = next(c for c in checks if c.id == "jsonld.terms")
    assert not terms.ok
    assert "/credentialSubject/@comment" in terms.reason
    with pytest.raises(JsonLdError):
        direct_nquads.canonicalize(_unsecured(mutated), untrusted=True)


def test_size_is_bounded_before_the_direct_walk() -> None:
    limits = rdfc.Limits(max_bytes=1000)
    with pytest.raises(JsonLdError) as raised:
        direct_nquads.canonicalize(_unsecured(SIGNED), untrusted=True, limits=limits)
    assert raised.value.extensions.get("rule") == "limit"


def test_vc_jwt_payload_with_an_unknown_member_fails_its_terms_check(general: list[Any]) -> None:
    unsecured = _unsecured(SIGNED)
    good = verify(sign_jwt(unsecured, KEY, VM), proof_only=True)
    assert good.verified, good.checks
    assert general == []  # the payload's terms were checked on the direct path
    bad = dict(unsecured, notATerm="unsigned")
    result = verify(sign_jwt(bad, KEY, VM), proof_only=True)
    terms = next(c for c in result.checks if c.id == "jsonld.terms")
    assert not terms.ok and not result.verified


def _refusal(run: Any, document: dict[str, Any]) -> tuple[type, str] | None:
    try:
        run(document)
    except GatewayError as refused:
        return type(refused), refused.detail
    return None


def _mutations() -> dict[str, dict[str, Any]]:
    out = {case: _put(SIGNED, *UNSIGNED[case]) for case in UNSIGNED}
    for case, (path, value) in UNCOVERED.items():
        if path != "proof":
            out[f"uncovered: {case}"] = set_member(SIGNED, path, value)
    out["as signed"] = SIGNED
    return {case: _unsecured(document) for case, document in out.items()}


MUTATIONS = _mutations()


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_the_terms_check_refuses_what_canonicalizing_refuses(case: str) -> None:
    """The check a vc+jwt payload gets (its N-Quads are not needed) raises exactly what
    canonicalizing it as untrusted input raises, or nothing when that passes."""
    document = MUTATIONS[case]
    expected = _refusal(lambda d: direct_nquads.canonicalize(d, untrusted=True), document)
    assert _refusal(direct_nquads.check, document) == expected


def test_the_terms_check_is_bounded_before_the_walk(general: list[Any]) -> None:
    limits = rdfc.Limits(max_bytes=1000)
    with pytest.raises(JsonLdError) as raised:
        direct_nquads.check(_unsecured(SIGNED), limits=limits)
    assert raised.value.extensions.get("rule") == "limit"
    assert general == []


_KEYS = st.sampled_from(
    ["notATerm", "https://evil.example/p", "@comment", "type", "id", "batteryMass", "name"]
)
_VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.booleans(),
    st.none(),
    st.just({"x": "y"}),
    st.just({"id": "https://evil.example/n", "type": "BatteryPassport"}),
    st.just(["https://a.example/"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=st.sampled_from(["", "credentialSubject", "credentialStatus/0"]),
    key=_KEYS,
    value=_VALUES,
)
def test_any_mutation_gets_the_reference_verdict(where: str, key: str, value: Any) -> None:
    path = tuple(int(s) if s.isdigit() else s for s in where.split("/") if s)
    mutated = _put(SIGNED, (*path, key), value)
    direct = _checks(mutated)
    assert direct == _checks(mutated, fast=False)
    if direct["proof.signature"]:
        assert _reference(mutated) == _reference(SIGNED)


@pytest.mark.parametrize("value", ["[", "a]b", "\U000f2c03", "x\ue000y"])
def test_relative_ids_that_resolve_to_no_iri_are_refused_on_every_path(value: str) -> None:
    # A relative reference with characters a resolved path cannot hold: pyoxigraph would
    # drop it without a word where pyld refuses it; safe mode refuses it for both.
    mutated = _put(SIGNED, ("id",), value)
    fast, reference = _checks(mutated), _checks(mutated, fast=False)
    assert fast == reference
    assert fast["jsonld.terms"] is False
