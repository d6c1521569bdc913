"""The gateway's own credentials as the direct N-Quads tests build them, and changes
that take a credential out of the part of JSON-LD the emitter covers.

Shared by the emission tests and the verification tests.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import rdfc
from gateway.credentials.direct_nquads import canonical_nquads
from gateway.credentials.model import build_credential
from gateway.credentials.multikey import did_key_verification_method
from gateway.vocab.loader import CREDENTIALS_V2, default_loader
from tests.helpers import BASE_URL

MAPPING = "cn-trace-to-eu-passport@1.0.0"
ISSUER = "did:web:gw.example"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VM = did_key_verification_method(KEY.public_key())
CREATED = "2026-03-01T08:00:00Z"
STATUS = [
    {
        "id": f"{BASE_URL}/status/1#{n}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(n),
        "statusListCredential": f"{BASE_URL}/status/{1 + i}",
    }
    for i, (purpose, n) in enumerate((("revocation", 17), ("suspension", 17)))
]


def credentials(draft: Any) -> Iterator[dict[str, Any]]:
    """Every credential of a draft, with and without status entries and validUntil."""
    for section, document in draft.documents.items():
        for status, until in ((None, None), (STATUS, "2036-03-01T00:00:00Z"), (STATUS[:1], None)):
            yield build_credential(
                document,
                issuer=ISSUER,
                passport_id=draft.conversion.passport_id,
                access_group=section,
                mapping=draft.gaps["mapping"],
                status=copy.deepcopy(status),
                valid_from=CREATED,
                valid_until=until,
            )


def assert_same_bytes(credential: dict[str, Any]) -> str:
    """The direct N-Quads of ``credential``, checked byte for byte against both
    canonicalizers."""
    emitted = canonical_nquads(credential, default_loader())
    assert emitted is not None, "a credential of the gateway is not covered"
    assert emitted == rdfc.canonicalize(credential, fast=False)  # pyld, the reference
    assert emitted == rdfc.canonicalize(credential)  # the pyoxigraph path
    return emitted


def set_member(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with the member at ``path`` (``a/0/b``) set."""
    out = copy.deepcopy(document)
    *parents, last = path.split("/")
    node: Any = out
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


#: Changes (path, value) that take a credential out of the covered part.
UNCOVERED = {
    "blank subject": ("credentialSubject", {"type": "BatteryPassport", "batteryMass": "1"}),
    "nested blank node": ("credentialSubject/batteryChemistry", {"batteryMass": "1"}),
    "undefined term": ("credentialSubject/notATerm", "x"),
    "float": ("credentialSubject/batteryMass", 1.5),
    "integer beyond 2^53": ("credentialSubject/expectedLifetimeCycles", 2**60),
    "null": ("credentialSubject/batteryChemistry", None),
    "control character": ("credentialSubject/batteryChemistry", "a\x0bb"),
    "lone surrogate": ("credentialSubject/batteryChemistry", "a\ud800b"),
    "relative id": ("credentialSubject/id", "passports/1"),
    "relative issuer": ("issuer", "gw.example"),
    "compact IRI id": ("id", "xsd:thing"),
    "blank node id": ("id", "_:b0"),
    "keyword-like id": ("id", "@thing"),
    "dot segment": ("issuer", "https://gw.example/a/../b"),
    "ill-formed IRI": ("issuer", "https://gw example/"),
    "inline context": ("@context", [CREDENTIALS_V2, {"x": "https://x.example/"}]),
    "unpinned context": ("@context", [CREDENTIALS_V2, "https://unknown.example/ctx"]),
    "nested context": ("credentialSubject/@context", {"x": "https://x.example/"}),
    "keyword key": ("credentialSubject/@index", "1"),
    "empty array": ("credentialSubject/testReportsCompliance", []),
    "nested array": ("credentialSubject/testReportsCompliance", [["https://a.example/"]]),
    "value object": ("credentialSubject/batteryChemistry", {"@value": "x", "@language": "en"}),
    "@json term": ("credentialSubject/_sd", ["x"]),
    "undefined type": ("credentialSubject/type", "NotAType"),
    "proof": ("proof", {"type": "DataIntegrityProof"}),
    "boolean typed @id": ("issuer", True),
}
