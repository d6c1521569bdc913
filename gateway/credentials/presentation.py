"""Verifiable Presentations (VC DM 2.0 §4.13) as the W3C VC API verifies them.

A presentation is verified in two parts. Its own Data Integrity proof shows that the
holder presents it now: the proof purpose is ``authentication`` (the key must be listed
under that relationship in the holder's DID document), the ``challenge`` and ``domain``
signed into the proof equal the ones the verifier asked for (so a captured presentation
cannot be replayed elsewhere), and a named ``holder`` controls the key. Then every
embedded credential, a Data Integrity credential or an enveloped ``vc+jwt``
(``EnvelopedVerifiableCredential``), is verified on its own as
:func:`gateway.credentials.verify.verify` does.

A presentation without a proof is accepted only when no challenge or domain was asked
for; its holder check is then "not evaluated".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.credentials import data_integrity
from gateway.credentials.checks import Check
from gateway.credentials.did import Resolver, VerificationMethod
from gateway.credentials.model import as_list
from gateway.credentials.verify import VerificationResult
from gateway.errors import GatewayError
from gateway.vocab.loader import CREDENTIALS_V2, DocumentLoader

PRESENTATION_TYPE = "VerifiablePresentation"
#: Most credentials one presentation may carry.
MAX_CREDENTIALS = 50


@dataclass(frozen=True)
class PresentationResult:
    """The verdict on a presentation.

    :param checks: the presentation's own checks.
    :param credentials: the verdict on each embedded credential, in order.
    """

    checks: tuple[Check, ...]
    credentials: tuple[VerificationResult, ...] = ()

    @property
    def verified(self) -> bool:
        """True only when every check of the presentation and of each credential passed."""
        return (
            bool(self.checks)
            and all(c.ok for c in self.checks)
            and all(r.verified for r in self.credentials)
        )

    def as_dict(self) -> dict[str, Any]:
        """``{"verified", "checks", "credentialResults": [{"verified", "checks"}]}``."""
        return {
            "verified": self.verified,
            "checks": [c.as_dict() for c in self.checks],
            "credentialResults": [r.as_dict() for r in self.credentials],
        }


def _holder_id(presentation: Mapping[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def verify_presentation(
    presentation: Any,
    verify_credential: Callable[[Any], VerificationResult],
    *,
    resolver: Resolver,
    loader: DocumentLoader,
    challenge: str | None = None,
    domain: str | None = None,
) -> PresentationResult:
    """Verify a presentation and every credential it carries.

    :param presentation: the parsed presentation.
    :param verify_credential: verifies one embedded credential (a dict or a compact JWS).
    :param resolver: finds the holder's key.
    :param loader: the JSON-LD document loader (pinned contexts only).
    :param challenge: the challenge the verifier issued; the proof must carry it.
    :param domain: the domain the verifier expects; the proof must carry it.
    :returns: the verdict; never raises for bad input.
    """
    checks: list[Check] = []
    if not isinstance(presentation, Mapping):
        return PresentationResult((Check("format", False, "a presentation is a JSON object"),))
    types = as_list(presentation.get("type"))
    contexts = as_list(presentation.get("@context"))
    if PRESENTATION_TYPE not in types or not contexts or contexts[0] != CREDENTIALS_V2:
        checks.append(
            Check(
                "vp.type",
                False,
                f"type must include {PRESENTATION_TYPE} and the first @context be {CREDENTIALS_V2}",
            )
        )
    else:
        checks.append(Check("vp.type", True, PRESENTATION_TYPE))
    checks.extend(_proof_checks(presentation, resolver, loader, challenge, domain))
    embedded = presentation.get("verifiableCredential", [])
    items = embedded if isinstance(embedded, list) else [embedded]
    if len(items) > MAX_CREDENTIALS:
        checks.append(
            Check("vp.credentials", False, f"{len(items)} credentials; at most {MAX_CREDENTIALS}")
        )
        return PresentationResult(tuple(checks))
    results = []
    for item in items:
        results.append(verify_credential(item))
    checks.append(Check("vp.credentials", True, f"{len(results)} embedded credential(s)"))
    return PresentationResult(tuple(checks), tuple(results))


def _proof_checks(
    presentation: Mapping[str, Any],
    resolver: Resolver,
    loader: DocumentLoader,
    challenge: str | None,
    domain: str | None,
) -> list[Check]:
    if "proof" not in presentation:
        if challenge is not None or domain is not None:
            return [
                Check(
                    "vp.proof",
                    False,
                    "a challenge or domain was given but the presentation has no proof",
                )
            ]
        return [
            Check(
                "vp.holder",
                True,
                "not evaluated: the presentation has no proof, so its holder is not authenticated",
                evaluated=False,
            )
        ]
    methods: dict[str, VerificationMethod] = {}

    def resolve(reference: str) -> Any:
        method = resolver.resolve(reference, purpose="authentication")
        methods[reference] = method
        return method.ed25519()

    try:
        checks = list(
            data_integrity.verify_proof(
                presentation, resolve, loader=loader, expected_purpose="authentication"
            )
        )
    except GatewayError as e:
        return [Check("vp.proof", False, e.detail)]
    proofs = [p for p in as_list(presentation.get("proof")) if isinstance(p, Mapping)]
    for name, wanted in (("challenge", challenge), ("domain", domain)):
        signed = [p.get(name) for p in proofs]
        if wanted is None:
            continue
        # Every proof, not any: in a proof set each proof is someone's answer, and one
        # added for the new challenge must not carry a replayed proof of another one.
        if signed and all(wanted == s or (isinstance(s, list) and wanted in s) for s in signed):
            checks.append(Check(f"vp.{name}", True, f"the proof carries the expected {name}"))
        else:
            checks.append(
                Check(f"vp.{name}", False, f"the proof does not carry the expected {name}")
            )
    holder = _holder_id(presentation)
    controllers = {methods[r].controller for r in methods}
    if holder is None:
        signers = ", ".join(sorted(controllers)) or "nobody resolved"
        checks.append(Check("vp.holder", True, f"no holder named; signed by {signers}"))
    elif controllers == {holder}:
        checks.append(Check("vp.holder", True, f"{holder} controls the key"))
    else:
        checks.append(
            Check("vp.holder", False, f"holder {holder!r} is not the controller of the proof's key")
        )
    return checks
