"""Credential ids are UUIDv7 (RFC 9562 §5.7): the layout's version and variant, the
creation millisecond in front, random bits behind, so ids made later sort later."""

from __future__ import annotations

import time
import uuid

from gateway.credentials.model import build_credential
from gateway.credentials.uuid7 import uuid7

ISSUER = "did:web:gateway.example"
PASSPORT = "https://gateway.example/passports/x"
MAPPING = {"set": "s", "version": "1", "hash": "h"}


def test_the_layout_of_rfc_9562() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    # the standard library reads the same fields from the text form
    assert uuid.UUID(str(made)) == made


def test_ids_are_random_within_a_millisecond_and_ordered_across() -> None:
    ids = [uuid7() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    # 74 random bits: every one of them varies
    varying = 0
    for made in ids[1:]:
        varying |= made.int ^ ids[0].int
    assert varying & ((1 << 62) - 1) == (1 << 62) - 1
    assert (varying >> 64) & 0xFFF == 0xFFF
    first = uuid7()
    time.sleep(0.002)
    assert str(uuid7()) > str(first)


def test_a_built_credential_is_named_by_one() -> None:
    credential = build_credential(
        {"id": PASSPORT},
        issuer=ISSUER,
        passport_id=PASSPORT,
        access_group="annex-xiii-1",
        mapping=MAPPING,
        status=None,
        valid_from="2026-01-01T00:00:00Z",
    )
    made = uuid.UUID(credential["id"].removeprefix("urn:uuid:"))
    assert credential["id"].startswith("urn:uuid:")
    assert made.version == 7
