"""Interop with Digital Bazaar's Node.js libraries (@digitalbazaar/vc and friends), both
ways: the gateway's eddsa-rdfc-2022 credentials verify there, theirs verify here.

The packages are installed with npm into a temporary folder; the JS side runs offline
with a documentLoader that serves the contexts ``gateway contexts export`` writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey, safe_mode
from gateway.credentials.model import build_credential
from gateway.credentials.status_list import StatusList
from gateway.credentials.verify import verify
from gateway.vocab.loader import PASSPORT_V1, current_passport_context, passport_context_url
from tests.credentials.tampering import TAMPERINGS, signed_passport, tampered
from tests.helpers import GatewayRunner

pytestmark = pytest.mark.interop

PACKAGES = [
    "@digitalbazaar/vc",
    "@digitalbazaar/data-integrity",
    "@digitalbazaar/eddsa-rdfc-2022-cryptosuite",
    "@digitalbazaar/ed25519-multikey",
    "jsonld",
]
SCRIPT = Path(__file__).with_name("digitalbazaar.mjs")
SUBJECT = {
    "type": "BatteryPassport",
    "batteryCode": "01A1B2C3D4E5F6G7H8J9K0L1",
    "manufacturerName": "Ningde Example Battery Co., Ltd. 宁德",
    "batteryMass": "450.5",
    "expectedLifetimeCycles": 3000,
    "manufacturingDate": "2025-11",
}


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the Digital Bazaar interop tests")
    folder = tmp_path_factory.mktemp("digitalbazaar")
    (folder / "package.json").write_text('{"name": "interop", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=600,
    )
    shutil.copy(SCRIPT, folder / SCRIPT.name)
    # Module-scoped, so not the per-test ``runner`` fixture: the same runner, made here.
    result = GatewayRunner(folder / "instance").invoke(
        args=["contexts", "export", folder / "contexts"]
    )
    assert result.exit_code == 0, result.output
    return folder


def run_js(node: Path, mode: str, document: dict) -> str:
    path = node / f"{mode}-input.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        ["node", SCRIPT.name, mode, "contexts", path.name],
        cwd=node,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def _unsigned(issuer: str) -> dict:
    return build_credential(
        SUBJECT,
        issuer=issuer,
        passport_id="https://gw.example/passports/01A1B2C3D4E5F6G7H8J9K0L1",
        access_group="annex-xiii-1",
        mapping={"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:00"},
        status=None,
        valid_from="2026-01-01T00:00:00Z",
    )


def _gateway_signed(document_for) -> dict:
    key = Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    document = document_for(did)
    return data_integrity.add_proof(
        document, key, multikey.did_key_verification_method(key.public_key())
    )


def test_gateway_credential_verifies_in_digitalbazaar(node: Path) -> None:
    signed = _gateway_signed(_unsigned)
    verdict = json.loads(run_js(node, "verify", signed))
    assert verdict == {"verified": True, "errors": []}
    signed["credentialSubject"]["batteryMass"] = "451.0"
    assert json.loads(run_js(node, "verify", signed))["verified"] is False


def test_section_credentials_with_approvals_and_of_context_v1_verify_in_digitalbazaar(
    node: Path,
) -> None:
    def with_approvals(issuer: str) -> dict:
        return build_credential(
            {"type": "BatteryPassport", "stateOfHealth": "96.8"},
            issuer=issuer,
            passport_id="https://gw.example/passports/01A1B2C3D4E5F6G7H8J9K0L1",
            access_group="annex-xiii-4",
            mapping={"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:00"},
            status=None,
            valid_from="2026-01-01T00:00:00Z",
            export_approvals=["CAC-SA-2026-0042", "SCC-2026-7"],
        )

    signed = _gateway_signed(with_approvals)
    assert signed["@context"][1] == current_passport_context()
    assert json.loads(run_js(node, "verify", signed)) == {"verified": True, "errors": []}
    signed["exportApproval"] = ["CAC-SA-2026-0042"]  # an approval dropped after signing
    assert json.loads(run_js(node, "verify", signed))["verified"] is False

    def earlier_group(issuer: str) -> dict:
        unsigned = _unsigned(issuer)
        unsigned["@context"][1] = PASSPORT_V1
        unsigned["accessGroup"] = "legitimate_interest"
        return unsigned

    signed = _gateway_signed(earlier_group)
    assert json.loads(run_js(node, "verify", signed)) == {"verified": True, "errors": []}


PASSPORT_ID = "https://gw.example/passports/01A1B2C3D4E5F6G7H8J9K0L1"
#: A subject in the forms of context v3: units, measurement time, languages, code, link.
SUBJECT_V3 = {
    "type": "BatteryPassport",
    "batteryPassportId": PASSPORT_ID,
    "manufacturerName": {"en": "Ningde Example Battery Co., Ltd.", "zh": "宁德示例电池有限公司"},
    "batteryCategory": "ev",
    "batteryMass": {
        "id": PASSPORT_ID + "#batteryMass",
        "value": "450.5",
        "unitCode": "KGM",
        "unit": "http://qudt.org/vocab/unit/KiloGM",
    },
}


def test_context_v3_forms_verify_both_ways(node: Path) -> None:
    # credentials signed with context v3 verify after a newer version is pinned
    assert passport_context_url(3) != current_passport_context()

    def unsigned(issuer: str) -> dict:
        return build_credential(
            {"@context": [passport_context_url(3)], **SUBJECT_V3},
            issuer=issuer,
            passport_id=PASSPORT_ID,
            access_group="annex-xiii-1",
            mapping={"set": "cn-trace-to-eu-passport", "version": "1.1.0", "hash": "sha256:00"},
            status=None,
            valid_from="2026-01-01T00:00:00Z",
        )

    signed = _gateway_signed(unsigned)
    assert signed["@context"][1] == passport_context_url(3)
    assert json.loads(run_js(node, "verify", signed)) == {"verified": True, "errors": []}
    for path, value in (
        (("batteryMass", "unitCode"), "GRM"),
        (("manufacturerName", "zh"), "宁德"),
        (("batteryCategory",), "lmt"),
    ):
        tampered_copy = json.loads(json.dumps(signed))
        target = tampered_copy["credentialSubject"]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        assert json.loads(run_js(node, "verify", tampered_copy))["verified"] is False, path
        assert not verify(tampered_copy, now=datetime.now(UTC)).verified, path

    theirs = json.loads(run_js(node, "issue", unsigned("did:example:replaced")))
    result = verify(theirs, now=datetime.now(UTC))
    assert result.verified, [c for c in result.checks if not c.ok]
    assert theirs["proof"]["proofValue"] != signed["proof"]["proofValue"]  # other key


#: A subject in the form context v4 adds: the dimensions as named parts, each a quantity.
SUBJECT_V4 = {
    "type": "BatteryPassport",
    "physicalDimensions": {
        "id": PASSPORT_ID + "#physicalDimensions",
        **{
            part: {
                "id": f"{PASSPORT_ID}#physicalDimensions-{part}",
                "value": value,
                "unitCode": "MMT",
                "unit": "http://qudt.org/vocab/unit/MilliM",
            }
            for part, value in (("length", "1650"), ("width", "1200"), ("height", "140"))
        },
    },
}


def test_context_v4_dimensions_verify_both_ways(node: Path) -> None:
    assert passport_context_url(4) == current_passport_context()

    def unsigned(issuer: str) -> dict:
        return build_credential(
            SUBJECT_V4,
            issuer=issuer,
            passport_id=PASSPORT_ID,
            access_group="annex-xiii-1",
            mapping={"set": "cn-trace-to-eu-passport", "version": "1.2.0", "hash": "sha256:00"},
            status=None,
            valid_from="2026-01-01T00:00:00Z",
        )

    signed = _gateway_signed(unsigned)
    assert signed["@context"][1] == passport_context_url(4)
    assert json.loads(run_js(node, "verify", signed)) == {"verified": True, "errors": []}
    for part, member, value in (
        ("height", "value", "141"),
        ("height", "unitCode", "CMT"),
        ("width", "id", PASSPORT_ID + "#physicalDimensions-height"),
    ):
        tampered_copy = json.loads(json.dumps(signed))
        tampered_copy["credentialSubject"]["physicalDimensions"][part][member] = value
        assert json.loads(run_js(node, "verify", tampered_copy))["verified"] is False, part
        assert not verify(tampered_copy, now=datetime.now(UTC)).verified, part

    theirs = json.loads(run_js(node, "issue", unsigned("did:example:replaced")))
    result = verify(theirs, now=datetime.now(UTC))
    assert result.verified, [c for c in result.checks if not c.ok]


def test_gateway_status_list_verifies_in_digitalbazaar(node: Path) -> None:
    def list_credential(did: str) -> dict:
        status_list = StatusList.new("https://gw.example/status/revocation/1", "revocation", did)
        return status_list.credential()

    verdict = json.loads(run_js(node, "verify", _gateway_signed(list_credential)))
    assert verdict == {"verified": True, "errors": []}


def test_digitalbazaar_credential_verifies_in_gateway(node: Path) -> None:
    signed = json.loads(run_js(node, "issue", _unsigned("did:example:replaced")))
    assert signed["issuer"].startswith("did:key:z6Mk")
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    result = verify(signed, now=datetime.now(UTC))
    assert result.verified, [c for c in result.checks if not c.ok]
    signed["credentialSubject"]["expectedLifetimeCycles"] = 3001
    assert not verify(signed, now=datetime.now(UTC)).verified


# -- content the signature does not cover (VC Data Integrity §4.4) ----------------------


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_credentials_are_refused_by_both(node: Path, name: str) -> None:
    signed = signed_passport()
    assert json.loads(run_js(node, "verify", signed))["verified"] is True
    document = tampered(signed, name)
    assert not verify(document, now=datetime.now(UTC)).verified
    verdict = json.loads(run_js(node, "verify", document))
    assert verdict["verified"] is False
    # refused for what was added (safe mode, URI rules), not for want of a status checker
    assert verdict["errors"] and not any("checkStatus" in e for e in verdict["errors"])


@pytest.mark.parametrize(
    "member",
    [
        pytest.param(
            {
                "@context": [
                    "https://www.w3.org/ns/credentials/v2",
                    {"Recalled": "https ://not-a-url#Recalled"},
                ],
                "type": ["VerifiableCredential", "Recalled"],
            },
            id="type IRI",
        ),
        pytest.param(
            {
                "credentialStatus": {
                    "id": "https ://status.example/1#7",
                    "type": "BitstringStatusListEntry",
                }
            },
            id="status id",
        ),
    ],
)
def test_what_the_issuer_used_to_sign_is_refused_by_both(node: Path, member, monkeypatch) -> None:
    # Sign the way the issuer did before it checked ids and type IRIs (the walk off),
    # then verify with the checks on, here and in Digital Bazaar's verifier.
    key = Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://things.example/1"},
        **member,
    }
    with monkeypatch.context() as patched:
        patched.setattr(safe_mode, "check_document", lambda *args: None)
        signed = data_integrity.add_proof(
            document, key, multikey.did_key_verification_method(key.public_key())
        )
    assert not verify(signed, now=datetime.now(UTC)).verified
    assert json.loads(run_js(node, "verify", signed))["verified"] is False


def test_digitalbazaar_credential_with_vocab_null_verifies_in_gateway(node: Path) -> None:
    unsigned = _unsigned("did:example:replaced")
    unsigned["@context"] = [*unsigned["@context"], {"@vocab": None}]
    signed = json.loads(run_js(node, "issue", unsigned))
    result = verify(signed, now=datetime.now(UTC))
    assert result.verified, [c for c in result.checks if not c.ok]
    signed["credentialSubject"]["expectedLifetimeCycles"] = 3001
    assert not verify(signed, now=datetime.now(UTC)).verified
