"""JSON-LD contexts: the shipped, pinned ones by name, and extra contexts pinned in the
database by admins (audited); nothing else is ever loaded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.errors import NotFound
from gateway.paths import CONTEXTS_DIR
from gateway.store import Database
from gateway.store.contexts import PinnedContexts
from gateway.vocab.loader import pinned_contexts


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


def context_listing(db: Database) -> list[dict[str, Any]]:
    """Every context the verifier serves: shipped ones and those pinned in the database,
    each with its SHA-256 (nothing else is ever loaded)."""
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = [
        {
            "url": url,
            "sha256": entry["sha256"],
            "source": "shipped",
            "name": entry["file"].removesuffix(".jsonld"),
        }
        for url, entry in sorted(index.items())
    ]
    with db.reading() as session:
        out.extend(entry.as_json() for entry in PinnedContexts(session).listing())
    return out


def pin_context(db: Database, principal: Principal | None, url: str, data: bytes) -> dict[str, Any]:
    """Pin an extra context (admins only; audited as ``context.pinned``).

    :raises Forbidden: not an admin. :raises InvalidInput / Conflict: see
        :meth:`PinnedContexts.add`.
    """
    caller = auth.require(principal, auth.may_administer(principal), "pin contexts")
    with db.transaction() as session:
        entry = PinnedContexts(session).add(
            url, data, shipped=pinned_contexts(), actor=auth.audit_actor(caller)
        )
    return entry.as_json()


def unpin_context(db: Database, principal: Principal | None, url: str) -> None:
    """Unpin an extra context (admins only; audited as ``context.unpinned``)."""
    caller = auth.require(principal, auth.may_administer(principal), "unpin contexts")
    with db.transaction() as session:
        PinnedContexts(session).remove(url, actor=auth.audit_actor(caller))
