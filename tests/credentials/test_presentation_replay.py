"""A presentation replayed under another challenge or domain: a proof set where only a
proof added by someone else carries the new challenge must not pass for an answer to it."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey
from gateway.credentials.did import Resolver
from gateway.credentials.presentation import verify_presentation
from gateway.credentials.verify import VerificationResult
from gateway.vocab.loader import default_loader

V2 = "https://www.w3.org/ns/credentials/v2"


def _sign(doc: dict[str, Any], key: Ed25519PrivateKey, **options: str) -> dict[str, Any]:
    return data_integrity.add_proof(
        doc,
        key,
        multikey.did_key_verification_method(key.public_key()),
        proof_purpose="authentication",
        proof_options=options,
    )


def _verify(vp: dict[str, Any], **options: str):
    return verify_presentation(
        vp,
        lambda _: VerificationResult(()),
        resolver=Resolver(),
        loader=default_loader(),
        **options,
    )


def test_every_proof_must_carry_the_challenge_and_domain() -> None:
    victim, attacker = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    vp = {"@context": [V2], "type": ["VerifiablePresentation"]}
    answered = _sign(vp, victim, challenge="c-1", domain="a.example")
    ok = _verify(answered, challenge="c-1", domain="a.example")
    assert all(c.ok for c in ok.checks), ok.checks
    # The attacker adds a proof of their own for a new challenge to the victim's answer.
    replayed = _sign(answered, attacker, challenge="c-2", domain="b.example")
    result = _verify(replayed, challenge="c-2", domain="b.example")
    failed = {c.id for c in result.checks if not c.ok}
    assert {"vp.challenge", "vp.domain"} <= failed, result.checks
