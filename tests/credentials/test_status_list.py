from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.credentials.status_list import (
    MIN_ENTRIES,
    FetchedList,
    FileStatusListStore,
    StatusList,
    StatusRegistry,
    check_status,
    decode_bitstring,
    encode_bitstring,
    get_bit,
    set_bit,
)
from gateway.errors import StatusListError
from gateway.paths import FIXTURES_DIR

VECTORS = FIXTURES_DIR / "vectors"
NOW = datetime.now(UTC) + timedelta(days=1)


def _json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_spec_example_decodes_to_16384_zero_bytes() -> None:
    example = _json(VECTORS / "w3c-vc-bitstring-status-list/examples/status-list-credential.json")
    bits = decode_bitstring(example["credentialSubject"]["encodedList"])
    assert bits == bytes(16384)


def test_derived_list_has_index_42_set_only() -> None:
    doc = _json(VECTORS / "derived/status/status-list-1.json")
    bits = decode_bitstring(doc["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == MIN_ENTRIES
    assert [i for i in range(len(bits) * 8) if get_bit(bits, i)] == [42]


def test_bit_order_is_msb_first() -> None:
    bits = bytearray(MIN_ENTRIES // 8)
    set_bit(bits, 94567, True)
    assert [i for i, b in enumerate(bits) if b] == [11820]
    assert bits[11820] == 0x01
    set_bit(bits, 0, True)
    assert bits[0] == 0x80
    roundtrip = decode_bitstring(encode_bitstring(bits))
    assert roundtrip == bits


def test_encoding_is_multibase_base64url_without_padding() -> None:
    encoded = encode_bitstring(bytes(MIN_ENTRIES // 8))
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (encode_bitstring(bytes(1024)), "STATUS_LIST_LENGTH_ERROR"),
        ("zabc", "'u' prefix"),
        ("u!!!", "base64url"),
        ("u" + "A" * 40, "GZIP"),
    ],
)
def test_bad_lists_are_refused(encoded: str, message: str) -> None:
    with pytest.raises(StatusListError, match=message):
        decode_bitstring(encoded)


def test_range_error() -> None:
    with pytest.raises(StatusListError, match="RANGE_ERROR"):
        get_bit(bytes(16), 128)


def _registry(tmp_path, **kw) -> StatusRegistry:
    return StatusRegistry(
        FileStatusListStore(tmp_path / "status"),
        base_url="https://gw.example",
        issuer="did:web:gw.example",
        **kw,
    )


def test_allocation_never_reuses_an_index(tmp_path) -> None:
    registry = _registry(tmp_path)
    entries = registry.allocate(count=500)
    seen = {(e["statusListCredential"], e["statusListIndex"]) for es in entries for e in es}
    assert len(seen) == 1000
    more = _registry(tmp_path).allocate(count=500)  # reloaded from the files
    again = {(e["statusListCredential"], e["statusListIndex"]) for es in more for e in es}
    assert not seen & again
    purposes = sorted(e["statusPurpose"] for e in entries[0])
    assert purposes == ["revocation", "suspension"]
    assert all(isinstance(e["statusListIndex"], str) for e in entries[0])


def test_sequential_allocation_opens_a_new_list_when_full(tmp_path) -> None:
    registry = _registry(tmp_path, sequential=True)
    entries = registry.allocate(("revocation",), count=MIN_ENTRIES + 2)
    assert entries[0][0]["statusListIndex"] == "0"
    assert entries[-1][0]["statusListCredential"] == "https://gw.example/status/revocation/2"
    assert entries[-1][0]["statusListIndex"] == "1"


def _credential(entries):
    return {"issuer": "did:web:gw.example", "credentialStatus": entries}


def _verdict(registry, credential):
    return check_status(credential, registry.source(), now=NOW, verify_list=lambda d: [])


def test_revoke_suspend_unsuspend_supersede(tmp_path) -> None:
    registry = _registry(tmp_path)
    [entries] = registry.allocate()
    credential = _credential(entries)
    assert all(c.ok for c in _verdict(registry, credential))
    registry.suspend(credential)
    failed = {c.id: c.reason for c in _verdict(registry, credential) if not c.ok}
    assert list(failed) == ["status.suspension"] and "suspended" in failed["status.suspension"]
    registry.unsuspend(credential)
    assert all(c.ok for c in _verdict(registry, credential))
    registry.supersede(credential, "https://gw.example/passports/NEW")
    failed = {c.id: c.reason for c in _verdict(registry, credential) if not c.ok}
    assert "superseded by https://gw.example/passports/NEW" in failed["status.revocation"]


def test_list_credential_shape(tmp_path) -> None:
    status_list = StatusList.new("https://gw.example/status/revocation/1", "revocation", "did:x:y")
    doc = status_list.credential()
    assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert doc["credentialSubject"]["type"] == "BitstringStatusList"
    assert doc["credentialSubject"]["id"] == doc["id"] + "#list"


def test_verifier_refuses_purpose_mismatch_issuer_mismatch_and_missing_list() -> None:
    status_list = StatusList.new("https://gw.example/status/suspension/1", "suspension", "did:a")
    doc = status_list.credential()

    def source(url):
        return FetchedList(doc) if url == doc["id"] else None

    entry = {
        "id": doc["id"] + "#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": doc["id"],
    }

    def reason(credential):
        [check] = check_status(credential, source, now=NOW, verify_list=lambda d: [])
        assert not check.ok
        return check.reason

    assert "does not match" in reason({"issuer": "did:a", "credentialStatus": entry})
    entry["statusPurpose"] = "suspension"
    assert "not the credential issuer" in reason({"issuer": "did:b", "credentialStatus": entry})
    gone = {**entry, "statusListCredential": "https://elsewhere.example/1"}
    assert "STATUS_RETRIEVAL_ERROR" in reason({"issuer": "did:a", "credentialStatus": gone})
    big = {**entry, "statusListIndex": str(MIN_ENTRIES)}
    assert "RANGE_ERROR" in reason({"issuer": "did:a", "credentialStatus": big})
    number = {**entry, "statusListIndex": 5}
    assert "string" in reason({"issuer": "did:a", "credentialStatus": number})
