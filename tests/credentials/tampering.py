"""Signed credentials with content added that their signature does not cover.

Shared by the unit, CLI, API and Digital Bazaar interop tests: each tampering keeps the
canonical RDF of the signed credential unchanged on a processor that silently drops
what it cannot represent, so only a verifier in safe mode refuses it.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey
from gateway.credentials.model import build_credential

SUBJECT = {
    "type": "BatteryPassport",
    "batteryCode": "01A1B2C3D4E5F6G7H8J9K0L1",
    "manufacturerName": "Ningde Example Battery Co., Ltd.",
    "batteryMass": "450.5",
}
PASSPORT = "https://gw.example/passports/01A1B2C3D4E5F6G7H8J9K0L1"


def signed_passport(key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """A passport credential signed with eddsa-rdfc-2022 by a fresh did:key."""
    key = key or Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    credential = build_credential(
        SUBJECT,
        issuer=did,
        passport_id=PASSPORT,
        access_group="annex-xiii-1",
        mapping={"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:00"},
        status=None,
        valid_from="2026-01-01T00:00:00Z",
    )
    return data_integrity.add_proof(
        credential, key, multikey.did_key_verification_method(key.public_key())
    )


def _second_subject(doc: dict[str, Any]) -> None:
    doc["credentialSubject"] = [
        doc["credentialSubject"],
        {
            "id": "https ://attacker.example/passports/X",
            "type": "BatteryPassport",
            "batteryMass": "1.0",
        },
    ]


def _language(doc: dict[str, Any]) -> None:
    doc["name"] = {"@value": "RECALLED: do not ship", "@language": "en US"}


def _type_iri(doc: dict[str, Any]) -> None:
    doc["@context"] = [*doc["@context"], {"Recalled": "https ://not-a-url#Recalled"}]
    doc["type"] = [*doc["type"], "Recalled"]


def _comment(doc: dict[str, Any]) -> None:
    doc["@comment"] = "RECALLED"


def _status_id(doc: dict[str, Any]) -> None:
    doc["credentialStatus"] = {
        "id": "https ://status.example/1#7",
        "type": "BitstringStatusListEntry",
    }


#: name -> (tampering, JSON pointer the refusal names)
TAMPERINGS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "ill-formed subject id": (_second_subject, "/credentialSubject/1/id"),
    "ill-formed language tag": (_language, "/name/@language"),
    "ill-formed type IRI": (_type_iri, "/@context/2/Recalled"),
    "@comment": (_comment, "/@comment"),
    "ill-formed status id": (_status_id, "/credentialStatus/id"),
}


def tampered(signed: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A deep copy of ``signed`` with the named tampering applied."""
    doc = copy.deepcopy(dict(signed))
    TAMPERINGS[name][0](doc)
    return doc


def duplicate_member_text(signed: Mapping[str, Any]) -> str:
    """The credential as JSON text where ``manufacturerName`` appears twice in the
    subject: an unsigned value first, the signed one last (which Python and JavaScript
    parsers keep)."""
    text = json.dumps(signed, ensure_ascii=False)
    name = signed["credentialSubject"]["manufacturerName"]
    signed_member = json.dumps({"manufacturerName": name}, ensure_ascii=False)[1:-1]
    assert text.count(signed_member) == 1
    return text.replace(signed_member, '"manufacturerName": "Evil Corp", ' + signed_member)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def forged_jwt(key: Ed25519PrivateKey, header: Mapping[str, Any], payload_text: str) -> str:
    """A compact JWS over any payload text (NaN, duplicates ...), signed by ``key``."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(payload_text.encode())}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


def jwt_credential_text(did: str, claims: str = "") -> str:
    """An unsigned credential as JSON text, with extra raw members (e.g. ``"exp": NaN``)."""
    body = json.dumps(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "credentialSubject": {"id": "urn:uuid:6f1c2a34-0b7d-4c1e-9a55-3e0f1d2c4b6a"},
        }
    )
    return body[:-1] + (", " + claims if claims else "") + "}"
