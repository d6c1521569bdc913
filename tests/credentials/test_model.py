from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.annex_xiii import ALL_SECTIONS
from gateway.credentials.lexical import is_absolute_iri
from gateway.credentials.model import build_credential, parse_datetime, structure_checks
from gateway.errors import CredentialError
from gateway.vocab.loader import PASSPORT_V1, current_passport_context

PASSPORT = "https://gw.example/passports/01A1B2C3D4E5F6G7H8J9K0L1"
MAPPING = {"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:abc"}


def _build(**kw):
    args = dict(
        issuer="did:web:gw.example",
        passport_id=PASSPORT,
        access_group="annex-xiii-1",
        mapping=MAPPING,
        status=None,
        valid_from="2025-01-01T00:00:00Z",
    )
    args.update(kw)
    subject = kw.pop(
        "subject", {"@context": ["x"], "type": "BatteryPassport", "batteryMass": "450.5"}
    )
    args.pop("subject", None)
    return build_credential(subject, **args)


def test_build_credential_shape() -> None:
    vc = _build(credential_id="urn:uuid:1")
    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://w3id.org/cn-eu-battery/contexts/passport/v4",
    ]
    assert vc["type"] == ["VerifiableCredential", "BatteryPassportCredential"]
    assert vc["credentialSubject"] == {
        "id": PASSPORT,
        "type": "BatteryPassport",
        "batteryMass": "450.5",
    }
    assert (vc["mappingSet"], vc["mappingVersion"], vc["mappingHash"]) == (
        "cn-trace-to-eu-passport",
        "1.0.0",
        "sha256:abc",
    )
    assert vc["accessGroup"] == "annex-xiii-1" and "credentialStatus" not in vc
    assert "exportApproval" not in vc
    assert all(c.ok for c in structure_checks(vc))


@pytest.mark.parametrize("name", ALL_SECTIONS)
def test_every_section_and_earlier_group_is_accepted(name) -> None:
    assert _build(access_group=name)["accessGroup"] == name


def test_export_approvals_follow_the_access_group() -> None:
    one = _build(export_approvals=["CAC-SA-2026-0042"])
    assert list(one)[list(one).index("accessGroup") + 1] == "exportApproval"
    assert one["exportApproval"] == "CAC-SA-2026-0042"
    two = _build(export_approvals=("CAC-SA-2026-0042", "SCC-2026-7"))
    assert two["exportApproval"] == ["CAC-SA-2026-0042", "SCC-2026-7"]
    assert one["@context"][1] == current_passport_context()


def test_an_approval_needs_a_context_that_defines_it() -> None:
    subject = {"@context": [PASSPORT_V1], "type": "BatteryPassport", "batteryMass": "450.5"}
    # A passport written with v1 is built with v1 ...
    assert _build(subject=subject)["@context"][1] == PASSPORT_V1
    # ... which cannot carry an approval.
    with pytest.raises(CredentialError) as info:
        _build(subject=subject, export_approvals=["CAC-SA-2026-0042"])
    assert info.value.pointer == "/exportApproval"


def test_two_status_entries_become_a_list() -> None:
    entries = [{"type": "BitstringStatusListEntry", "statusPurpose": p} for p in ("a", "b")]
    assert len(_build(status=entries)["credentialStatus"]) == 2
    assert _build(status=entries[:1])["credentialStatus"] == entries[0]


@pytest.mark.parametrize(
    ("kw", "pointer"),
    [
        ({"access_group": "everyone"}, "/accessGroup"),
        ({"access_group": "annex-xiii-5"}, "/accessGroup"),
        ({"export_approvals": [""]}, "/exportApproval"),
        ({"export_approvals": ["A-1", " "]}, "/exportApproval/1"),
        ({"issuer": "not a url"}, "/issuer"),
        ({"valid_from": "2025-01-01"}, "/validFrom"),
        ({"valid_until": "2024-01-01T00:00:00Z"}, "/validUntil"),
        ({"mapping": {"set": "x"}}, "/mappingSet"),
        ({"subject": {"id": "https://other.example/p"}}, "/credentialSubject/id"),
        ({"subject": {"batteryMass": 450.5}}, "/credentialSubject/batteryMass"),
    ],
)
def test_build_refuses(kw, pointer) -> None:
    with pytest.raises(CredentialError) as info:
        _build(**kw)
    assert info.value.pointer == pointer


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T02:00:00+02:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.123456789Z", datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2023-12-31T24:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_datetime(value, expected) -> None:
    assert parse_datetime(value) == expected


@pytest.mark.parametrize("value", ["2024-01-01", "2024-13-01T00:00:00Z", 1704067200, "yesterday"])
def test_parse_datetime_refuses(value) -> None:
    with pytest.raises(CredentialError):
        parse_datetime(value)


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "vc.context"),
        ({"type": ["BatteryPassportCredential"]}, "vc.type"),
        ({"issuer": ["did:a", "did:b"]}, "vc.issuer"),
        ({"issuer": {"name": "no id"}}, "vc.issuer"),
        ({"credentialSubject": []}, "vc.subject"),
        ({"id": "not a url"}, "vc.id"),
        ({"validUntil": "2020-01-01T00:00:00Z"}, "vc.validity-dates"),
        ({"issuanceDate": "2020-01-01T00:00:00Z"}, "vc.validity-dates"),
        ({"credentialStatus": {"id": "https://x.example/1"}}, "vc.typed-objects"),
        ({"credentialSchema": {"type": "JsonSchema"}}, "vc.typed-objects"),
    ],
)
def test_structure_checks(change, check_id) -> None:
    vc = {**_build(), **change}
    assert [c.id for c in structure_checks(vc) if not c.ok] == [check_id]


@pytest.mark.parametrize(
    ("node_id", "ok"),
    [
        (f"{PASSPORT}#batteryMass", True),
        (f"{PASSPORT}#physicalDimensions-length", True),
        (f"{PASSPORT}#a b", False),
        (f"{PASSPORT}#x#y", False),
        ("not a url#batteryMass", False),
        ("https://gw.example/passports/a b#batteryMass", False),
        ("https://[::1x]/p#batteryMass", False),
    ],
)
def test_node_ids_below_the_subject(node_id, ok) -> None:
    # Node ids are checked as URLs whether or not they are fragments of an id already
    # found to be one (the subject's), which are answered without parsing again.
    vc = _build()
    vc["credentialSubject"]["batteryMass"] = {"id": node_id, "value": "450.5"}
    problems = [c for c in structure_checks(vc) if c.id == "vc.ids-and-types" and not c.ok]
    assert bool(problems) is not ok
    assert is_absolute_iri(node_id) is ok


@pytest.mark.parametrize(
    "base",
    [
        PASSPORT,
        "https://gw.example",
        "https://gw.example/",
        "https://[2001:db8::1]:8443/passports/X?lang=zh",
        "urn:uuid:0b8f0e6c-8d1e-4c3e-9a59-2b7c1f1a3b57",
        "did:web:gw.example",
        "https://例子.测试/护照/电池",
        "https://gw.example/p?",
        "mailto:passport@battery.example.cn",
    ],
)
def test_a_plain_fragment_keeps_a_url_a_url(base) -> None:
    # What the shortcut for node ids relies on (RFC 3987: any fragment-free IRI followed
    # by "#" and letters, digits and hyphens is an IRI).
    assert is_absolute_iri(base)
    for fragment in ("batteryMass", "physicalDimensions-length", "0", "a-b-c9"):
        assert is_absolute_iri(f"{base}#{fragment}")
