"""The claims of a credential this gateway issued and stored, read back without checking
its proof (our own stored copy, already verified when it was signed)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gateway.credentials import base64url


def credential_claims(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The claims of a stored credential: the dict itself, or the payload of its compact
    JWS (read without checking the signature).

    :param credential: a Data Integrity credential or a compact JWS.
    :returns: the credential's claims.
    :raises CredentialError: a JWS payload that is not base64url.
    :raises ValueError: one that is not JSON. :raises IndexError: text with no payload.
    """
    if isinstance(credential, str):
        payload = credential.split(".")[1]
        claims = json.loads(base64url.decode(payload, "JWS payload"))
        return claims if isinstance(claims, dict) else {}
    return dict(credential)


def status_entries(claims: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``credentialStatus`` entries of a credential's claims, one or many, as a list."""
    status = claims.get("credentialStatus")
    items = status if isinstance(status, list) else [status] if status else []
    return [i for i in items if isinstance(i, Mapping)]
