"""The generic issue route is no signing oracle for what a verifier would read as this
gateway's passport or status list, however the type or the URL is spelled; and the
verifier's own-passport check reads the gateway's URL the same case- and
encoding-blind way."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey
from gateway.credentials.verify import own_passport_check, verify
from tests.credentials.tampering import signed_passport
from tests.helpers import assert_problem

V2 = "https://www.w3.org/ns/credentials/v2"
CODE = "Z9ZPEN8K52S96AE740000319"
STATUS_LIST_IRI = "https://www.w3.org/ns/credentials/status#BitstringStatusListCredential"
PLAIN = {
    "@context": [V2],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "https://maker.example/things/1"},
}


def _issue(api, keys, credential: dict[str, Any]):
    return api.post(
        "/credentials/issue",
        json={"credential": credential, "options": {}},
        headers=keys["exporter"],
    )


@pytest.mark.parametrize(
    "change",
    [
        # the status list type written as its IRI, or aliased by an inline context
        {"type": ["VerifiableCredential", STATUS_LIST_IRI]},
        {"@context": [V2, {"SL": STATUS_LIST_IRI}], "type": ["VerifiableCredential", "SL"]},
        {
            "@context": [V2, {"st": "https://www.w3.org/ns/credentials/status#"}],
            "type": ["VerifiableCredential", "st:BitstringStatusListCredential"],
        },
        # the passport vocabulary reached through a @vocab or a prefix cut short
        {
            "@context": [V2, {"@vocab": "https://w3id.org/cn-eu-"}],
            "type": ["VerifiableCredential", "battery/vocab#BatteryPassportCredential"],
        },
        {
            "@context": [V2, {"w3": "https://w3id.org/"}],
            "credentialSubject": {
                "id": "https://maker.example/things/1",
                "w3:cn-eu-battery/vocab#batteryMass": "1.0",
            },
        },
        # a reserved type deeper than the subject
        {"evidence": {"type": STATUS_LIST_IRI}},
    ],
)
def test_reserved_types_and_terms_are_refused_however_spelled(api, keys, change) -> None:
    assert_problem(_issue(api, keys, {**PLAIN, **change}), 422, "invalid-input")


@pytest.mark.parametrize(
    "url",
    [
        f"https://gw.example/%70assports/{CODE}",
        f"https://gw.example:443/passports/{CODE}",
        f"https://gw.example./passports/{CODE}",
        f"https://gw.example/x/../passports/{CODE}",
        f"https://gw.example//passports/{CODE}",
        f"https://user@gw.example/passports/{CODE}",
        f"https://\uff47\uff57.example/passports/{CODE}",  # fullwidth: a browser maps it
        "https://gw.example/status-lists%2Frevocation-1",
    ],
)
def test_own_url_space_is_refused_however_spelled(api, keys, url) -> None:
    body = assert_problem(_issue(api, keys, {**PLAIN, "id": url}), 422, "invalid-input")
    assert body["pointer"] == "/credential/id"


def test_plain_credentials_still_issue(api, keys) -> None:
    assert _issue(api, keys, PLAIN).status_code == 201
    other = {**PLAIN, "id": "https://gw.example/things/passports-1"}
    assert _issue(api, keys, other).status_code == 201


@pytest.mark.parametrize(
    "spelling",
    [
        "https://GW.EXAMPLE/passports/",
        "HTTPS://gw.example/passports/",
        "https://gw.example:443/passports/",
        "https://gw.example/%70assports/",
    ],
)
def test_verifier_takes_the_gateways_passport_url_however_spelled(spelling) -> None:
    key = Ed25519PrivateKey.generate()
    signed = signed_passport(key)
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    subject = dict(unsecured["credentialSubject"])
    subject["id"] = spelling + CODE
    forged = data_integrity.add_proof(
        {**unsecured, "credentialSubject": subject},
        key,
        multikey.did_key_verification_method(key.public_key()),
    )
    check = own_passport_check(forged, "https://gw.example", "did:web:gw.example")
    assert check is not None and not check.ok


@pytest.mark.parametrize(
    "types",
    [
        ["VerifiableCredential", "https://w3id.org/cn-eu-battery/vocab#BatteryPassportCredential"],
        ["VerifiableCredential", "bp:BatteryPassportCredential"],
    ],
)
def test_verifier_takes_the_passport_type_however_spelled(types) -> None:
    key = Ed25519PrivateKey.generate()
    unsecured = {k: v for k, v in signed_passport(key).items() if k != "proof"}
    unsecured["@context"] = [
        *unsecured["@context"],
        {"bp": "https://w3id.org/cn-eu-battery/vocab#"},
    ]
    forged = data_integrity.add_proof(
        {**unsecured, "type": types},
        key,
        multikey.did_key_verification_method(key.public_key()),
    )
    result = verify(forged, passport_issuer=("https://gw.example", "did:web:gw.example"))
    failed = {c.id for c in result.checks if not c.ok}
    assert "issuer.passport" in failed, result.checks
