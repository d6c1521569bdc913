"""One credential per Annex XIII point: each signed on its own (Data Integrity and
vc+jwt), sharing the passport id, naming its section; passports issued under the three
earlier access groups still verify."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway.annex_xiii import LEGACY_SECTIONS, SECTIONS, points_of
from gateway.credentials.claims import credential_claims
from gateway.credentials.model import build_credential
from gateway.credentials.verify import passport_checks
from gateway.records.reader import read_record_file
from gateway.services import (
    Instance,
    StatusPool,
    draft_passport,
    sign_credentials,
    verify_credential,
)
from gateway.store import Passports
from gateway.vocab.catalog import load_catalog
from gateway.vocab.loader import PASSPORT_V1, current_passport_context
from tests.helpers import (
    RECORDS,
    covering_everything,
    issue_secrets,
    make_app,
    store_legacy_passport,
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def instance(app: Flask) -> Instance:
    running: Instance = app.extensions["gateway.instance"]
    return running


def _record(name: str = "ncm-ev-pack.json") -> dict:
    return json.loads((RECORDS / name).read_text(encoding="utf-8"))


def _draft(instance: Instance, name: str = "ncm-ev-pack.json"):
    return draft_passport(
        _record(name), mapping=instance.settings.mapping, base_url=instance.base_url
    )


def _points(subject: dict) -> set[int]:
    catalog = load_catalog()
    # Structural terms and the EN 18223 metadata of point 1 belong to no point.
    return {catalog.by_term[t].point for t in subject if t in catalog.by_term}


@pytest.mark.parametrize("proof_format", ["di", "jwt"])
def test_every_section_credential_verifies_and_names_its_section(instance, proof_format):
    draft = _draft(instance)
    assert list(draft.documents) == list(SECTIONS)  # the NCM pack fills all four points
    signed = sign_credentials(
        draft, key=instance.key, registry=StatusPool(instance), proof_format=proof_format
    )
    assert list(signed) == list(SECTIONS)
    ids = set()
    for name, item in signed.items():
        assert item.access_group == name
        result = verify_credential(instance, item.credential)
        assert result["verified"], [c for c in result["checks"] if not c["ok"]]
        claims = credential_claims(item.credential)
        assert claims["accessGroup"] == name
        assert claims["@context"][1] == current_passport_context()
        assert "exportApproval" not in claims  # no approval relied on
        subject = claims["credentialSubject"]
        assert subject["id"] == draft.conversion.passport_id
        # A credential holds exactly the point its section names.
        assert _points(subject) == set(points_of(name))
        ids.add(item.id)
    assert len(ids) == len(SECTIONS)  # each signed on its own


@pytest.mark.parametrize(
    "record", sorted(p.name for p in RECORDS.iterdir() if p.suffix in {".json", ".xml"})
)
def test_points_3_and_4_never_share_a_credential(instance, record):
    draft = draft_passport(
        read_record_file(RECORDS / record),
        mapping=instance.settings.mapping,
        base_url=instance.base_url,
    )
    assert "annex-xiii-1" in draft.documents  # the public part is always issued
    for name, document in draft.documents.items():
        assert document["accessGroup"] == name
        points = _points(document)
        assert points <= set(points_of(name))
        assert not {3, 4} <= points
        assert points or name == "annex-xiii-1"  # empty points are not issued


@pytest.mark.parametrize("proof_format", ["di", "jwt"])
def test_a_credential_names_the_approvals_it_relies_on(instance, proof_format):
    draft = dataclasses.replace(
        _draft(instance), approvals={"annex-xiii-4": ("CAC-SA-2026-0042", "SCC-2026-7")}
    )
    signed = sign_credentials(
        draft, key=instance.key, registry=StatusPool(instance), proof_format=proof_format
    )
    claims = {name: credential_claims(s.credential) for name, s in signed.items()}
    assert claims["annex-xiii-4"]["exportApproval"] == ["CAC-SA-2026-0042", "SCC-2026-7"]
    assert all("exportApproval" not in c for n, c in claims.items() if n != "annex-xiii-4")
    result = verify_credential(instance, signed["annex-xiii-4"].credential)
    assert result["verified"], [c for c in result["checks"] if not c["ok"]]


@pytest.mark.parametrize("proof_format", ["di", "jwt"])
def test_health_data_released_by_an_approval_names_it(instance, proof_format):
    approval = covering_everything()
    draft = draft_passport(
        _record(),
        mapping=instance.settings.mapping,
        base_url=instance.base_url,
        approvals=[approval],
    )
    assert "stateOfHealth" in draft.documents["annex-xiii-4"]
    signed = sign_credentials(
        draft, key=instance.key, registry=StatusPool(instance), proof_format=proof_format
    )
    claims = credential_claims(signed["annex-xiii-4"].credential)
    assert claims["exportApproval"] == approval.reference
    assert "exportApproval" not in credential_claims(signed["annex-xiii-1"].credential)
    result = verify_credential(instance, signed["annex-xiii-4"].credential)
    assert result["verified"], [c for c in result["checks"] if not c["ok"]]


@pytest.mark.parametrize("proof_format", ["di", "jwt"])
def test_passports_of_the_three_earlier_groups_still_verify(app, instance, proof_format):
    issue_secrets(instance.settings, {"acme": ("exporter",)})
    passport_id = store_legacy_passport(app, "acme", proof_format=proof_format)
    with instance.db.reading() as session:
        stored = Passports(session).credentials(passport_id)
    assert sorted(c.access_group for c in stored) == sorted(LEGACY_SECTIONS)
    for cred in stored:
        credential = cred.body if proof_format == "jwt" else json.loads(cred.body)
        result = verify_credential(instance, credential)
        assert result["verified"], [c for c in result["checks"] if not c["ok"]]
        claims = credential_claims(credential)
        assert claims["accessGroup"] == cred.access_group
        assert claims["@context"][1] == PASSPORT_V1
        assert _points(claims["credentialSubject"]) == set(LEGACY_SECTIONS[cred.access_group])


def _checked(section: str, subject: dict) -> list:
    credential = build_credential(
        {"type": "BatteryPassport", **subject},
        issuer="did:web:gw.example",
        passport_id="https://gw.example/passports/01A1B2C3D4E5F6G7H8J9K0L1",
        access_group=section,
        mapping={"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:00"},
        status=None,
        valid_from="2026-01-01T00:00:00Z",
    )
    [vocabulary] = [c for c in passport_checks(credential) if c.id == "passport.vocabulary"]
    return vocabulary


@pytest.mark.parametrize(
    ("section", "subject", "ok"),
    [
        ("annex-xiii-1", {"batteryMass": "450.5"}, True),
        ("annex-xiii-4", {"stateOfHealth": "96.8", "batteryStatus": "original"}, True),
        ("annex-xiii-3", {"stateOfHealth": "96.8"}, False),  # point 4 where 3 is named
        ("annex-xiii-1", {"testReportsCompliance": "https://x.example/r.pdf"}, False),
        (
            "legitimate_interest",
            {"stateOfHealth": "96.8", "safetyMeasures": "https://x.example/s"},
            True,
        ),
        ("legitimate_interest", {"testReportsCompliance": "https://x.example/r.pdf"}, False),
        ("authorities", {"testReportsCompliance": "https://x.example/r.pdf"}, True),
    ],
)
def test_verification_checks_that_a_credential_holds_only_its_points(section, subject, ok):
    check = _checked(section, subject)
    assert check.ok is ok, check.reason
    if not ok:
        assert "not in section " + section in check.reason
