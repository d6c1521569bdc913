"""Credentials of context v4: the battery's dimensions as named parts are read straight
off the JSON byte for byte as both RDFC-1.0 canonicalizers write them, the signature
covers each part, and credentials of the earlier contexts still verify."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.credentials import data_integrity
from gateway.credentials.model import build_credential
from gateway.credentials.verify import verify
from gateway.services import draft_passport
from gateway.vocab.loader import passport_context_url
from tests.credentials.own_credentials import KEY, VM, assert_same_bytes
from tests.helpers import BASE_URL, RECORDS

ISSUER = VM.split("#")[0]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _public(mapping: str, context: str | None = None) -> dict[str, Any]:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    draft = draft_passport(record, mapping=mapping, base_url=BASE_URL)
    subject = dict(draft.documents["annex-xiii-1"])
    if context is not None:
        subject["@context"] = [context]
    return build_credential(
        subject,
        issuer=ISSUER,
        passport_id=draft.conversion.passport_id,
        access_group="annex-xiii-1",
        mapping=draft.gaps["mapping"],
        status=None,
        valid_from="2026-03-01T08:00:00Z",
    )


def test_a_v4_credential_is_emitted_byte_for_byte_and_names_each_part() -> None:
    credential = _public("cn-trace-to-eu-passport@1.2.0")
    assert credential["@context"][1] == passport_context_url(4)
    text = assert_same_bytes(credential)
    assert "_:" not in text
    for part in ("length", "width", "height"):
        assert f"<https://w3id.org/cn-eu-battery/vocab#{part}>" in text


@pytest.mark.parametrize(
    "part, member, value",
    [
        ("height", "value", "141"),
        ("height", "unit", "http://qudt.org/vocab/unit/CentiM"),
        ("length", "id", f"{BASE_URL}/passports/x#physicalDimensions-height"),
    ],
)
def test_a_changed_part_breaks_the_signature(part: str, member: str, value: str) -> None:
    signed = data_integrity.add_proof(
        _public("cn-trace-to-eu-passport@1.2.0"), KEY, VM, created="2026-03-01T08:00:00Z"
    )
    assert verify(signed, now=NOW).verified
    changed = copy.deepcopy(signed)
    changed["credentialSubject"]["physicalDimensions"][part][member] = value
    assert not verify(changed, now=NOW).verified


def test_a_swapped_width_and_height_breaks_the_signature() -> None:
    # RDF keeps no order among a property's values: only the names tell the parts apart
    signed = data_integrity.add_proof(
        _public("cn-trace-to-eu-passport@1.2.0"), KEY, VM, created="2026-03-01T08:00:00Z"
    )
    changed = copy.deepcopy(signed)
    dimensions = changed["credentialSubject"]["physicalDimensions"]
    dimensions["width"]["value"], dimensions["height"]["value"] = (
        dimensions["height"]["value"],
        dimensions["width"]["value"],
    )
    assert not verify(changed, now=NOW).verified


def test_a_v3_credential_still_verifies() -> None:
    # mapping 1.1.0 gives no structured value: its subject is in the forms of v3
    credential = _public("cn-trace-to-eu-passport@1.1.0", passport_context_url(3))
    assert credential["@context"][1] == passport_context_url(3)
    assert_same_bytes(credential)
    signed = data_integrity.add_proof(credential, KEY, VM, created="2026-03-01T08:00:00Z")
    result = verify(signed, now=NOW)
    assert result.verified, [c for c in result.checks if not c.ok]
