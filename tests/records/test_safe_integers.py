"""One integer limit at both ends: what the record schema lets in, the verifier accepts.

A record once held 2^53 in an integer field: the schema (limit ±2^53) let it through,
the passport carried it, and the gateway's own verifier (limit ±(2^53 - 1), what a
JavaScript verifier reads exactly) refused the signed credential. Both ends now take
their limit from ``gateway.jsonvalues``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.credentials import data_integrity
from gateway.credentials.did import Resolver
from gateway.credentials.keys import KeyStore
from gateway.credentials.model import build_credential
from gateway.credentials.verify import passport_checks, verify
from gateway.errors import InvalidRecord
from gateway.jsonvalues import MAX_SAFE_INTEGER
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record
from gateway.services import draft_passport

BASE_URL = "https://passports.example.com"
MAPPING = "cn-trace-to-eu-passport@1.0.0"
POINTER = "/specs/expected_cycles"


def _record_bytes(cycles: int) -> bytes:
    data = json.loads((FIXTURES_DIR / "records" / "ncm-ev-pack.json").read_text("utf-8"))
    data["specs"]["expected_cycles"] = cycles
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("cycles", [2**53, MAX_SAFE_INTEGER + 1])
def test_the_record_schema_refuses_2_53_with_the_pointer(cycles: int) -> None:
    with pytest.raises(InvalidRecord) as caught:
        read_record(_record_bytes(cycles), "application/json")
    errors = {e["pointer"]: e["message"] for e in caught.value.extensions["errors"]}
    assert set(errors) == {POINTER}
    assert str(MAX_SAFE_INTEGER) in errors[POINTER]


def test_the_largest_accepted_integer_is_issued_and_verifies(tmp_path: Any) -> None:
    record = read_record(_record_bytes(MAX_SAFE_INTEGER), "application/json")
    draft = draft_passport(record, mapping=MAPPING, base_url=BASE_URL)
    group, document = next(
        (g, d) for g, d in draft.documents.items() if "expectedLifetimeCycles" in d
    )
    assert document["expectedLifetimeCycles"] == MAX_SAFE_INTEGER

    keys = KeyStore(tmp_path / "keys", BASE_URL, tmp_path / "did")
    keys.generate(method="web")
    signing = keys.signing_key()
    credential = build_credential(
        document,
        issuer=signing.issuer,
        passport_id=document["id"],
        access_group=group,
        mapping={"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:00"},
        status=None,
        valid_from="2026-01-01T00:00:00Z",
    )
    secured = data_integrity.add_proof(
        credential, signing.private_key, signing.kid, created="2026-01-01T00:00:00Z"
    )
    result = verify(
        secured,
        now=datetime(2026, 6, 1, tzinfo=UTC),
        resolver=Resolver.from_files([tmp_path / "did"]),
    )
    assert result.verified, {c.id: c.reason for c in result.checks if not c.ok}

    # One past the limit is what the verifier refuses: the limit the schema applies.
    beyond = dict(credential)
    beyond["credentialSubject"] = {
        **credential["credentialSubject"],
        "expectedLifetimeCycles": MAX_SAFE_INTEGER + 1,
    }
    [vocabulary, _] = passport_checks(beyond)
    assert not vocabulary.ok and "expectedLifetimeCycles" in vocabulary.reason
