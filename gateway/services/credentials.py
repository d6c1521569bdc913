"""The VC API side: verify and issue credentials, serve status lists and contexts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.credentials import data_integrity, jose
from gateway.credentials.model import (
    issuer_id,
    structure_checks,
)
from gateway.credentials.verify import verify
from gateway.errors import (
    InvalidInput,
    NotFound,
)
from gateway.paths import CONTEXTS_DIR
from gateway.services.instance import STATUS_LIST_URL, Instance, status_registry
from gateway.services.passports import require
from gateway.store.status_adapter import DatabaseStatusListStore
from gateway.vocab.loader import CREDENTIALS_V2, pinned_contexts


def verify_credential(instance: Instance, credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """Verify a credential against the instance's DID documents, trust list and status
    lists (DESIGN §6 flow 2); a failed verification is an answer, not an error.

    :param credential: a JSON credential with a proof, or a compact ``vc+jwt``.
    :returns: ``{"verified": bool, "checks": [...]}``.
    """
    with instance.db.reading() as session:
        source = status_registry(
            instance, DatabaseStatusListStore(session, lock=False)
        ).source()
        result = verify(
            credential,
            trusted_issuers=instance.settings.trusted_issuers,
            resolver=instance.resolver,
            status_lists=source,
        )
    return result.as_dict()


def issue_credential(
    instance: Instance,
    credential: Mapping[str, Any],
    principal: Principal | None,
    proof_format: str = "di",
) -> dict[str, Any]:
    """Sign a credential as the W3C VC API ``/credentials/issue`` does.

    The issuer is this gateway: an absent ``issuer`` is filled in, another one refused.

    :param credential: the unsecured credential.
    :param proof_format: ``di`` (Data Integrity ``eddsa-rdfc-2022``) or ``jwt`` (returned
        as an ``EnvelopedVerifiableCredential``).
    :returns: the secured credential.
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises InvalidInput: a credential that breaks VC DM 2.0 (``errors`` lists each rule).
    """
    require(principal, auth.may_issue(principal), "issue credentials")
    body = dict(credential)
    issuer = body.setdefault("issuer", instance.key.issuer)
    if issuer_id(body) != instance.key.issuer:
        raise InvalidInput(
            f"issuer must be this gateway's DID {instance.key.issuer}, not {issuer!r}",
            pointer="/credential/issuer",
        )
    if "proof" in body:
        raise InvalidInput("the credential is already secured", pointer="/credential/proof")
    failed = [c for c in structure_checks(body) if not c.ok]
    if failed:
        raise InvalidInput(
            f"the credential breaks VC DM 2.0: {failed[0].reason}",
            pointer="/credential",
            errors=[{"pointer": "/credential", "message": c.reason} for c in failed],
        )
    if proof_format == "jwt":
        token = jose.sign_jwt(body, instance.key.private_key, instance.key.kid)
        return {
            "@context": CREDENTIALS_V2,
            "id": f"data:application/vc+jwt,{token}",
            "type": "EnvelopedVerifiableCredential",
        }
    return data_integrity.add_proof(body, instance.key.private_key, instance.key.kid)


def status_list_credential(instance: Instance, list_id: str) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` of one of the instance's lists.

    :param list_id: the last part of the list URL (``revocation-1``).
    :raises NotFound: no such list.
    """
    url = STATUS_LIST_URL.format(base=instance.base_url, purpose="", n="")
    url = url.rsplit("/", 1)[0] + "/" + list_id
    with instance.db.reading() as session:
        status_list = DatabaseStatusListStore(session, lock=False).load(url)
    if status_list is None:
        raise NotFound(f"no status list {list_id!r}", pointer="id")
    return data_integrity.add_proof(
        status_list.credential(), instance.key.private_key, instance.key.kid
    )


def require_issuer(principal: Principal | None) -> None:
    """Check that the caller may issue passports.

    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    """
    require(principal, auth.may_issue(principal), "issue passports")


@lru_cache(maxsize=1)
def _contexts_by_name() -> dict[str, Mapping[str, Any]]:
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    documents = pinned_contexts()  # checks every file against its pinned hash
    return {entry["file"].removesuffix(".jsonld"): documents[url] for url, entry in index.items()}


def pinned_context(name: str) -> Mapping[str, Any]:
    """A pinned JSON-LD context by its file name without suffix (``passport-v1``).

    :raises NotFound: no such pinned context.
    """
    contexts = _contexts_by_name()
    if name not in contexts:
        known = ", ".join(sorted(contexts))
        raise NotFound(f"no pinned context {name!r}; known: {known}", pointer="name")
    return contexts[name]
