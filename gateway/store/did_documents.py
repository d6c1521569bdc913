"""Other issuers' DID documents pinned for the verifier, kept in the database.

A ``did:web`` issuer resolves without the network only from a document the operator
pinned. Kept here, every instance serving the database resolves the same set; adding
and removing are audited (``did.pinned`` / ``did.unpinned``) and raise the documents'
version (:mod:`gateway.store.instance_state`) so that every process rereads them. The
gateway's own DID documents are not pinned: each instance derives them from its keys.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway import jsontext
from gateway.credentials.did import MAX_DID_DOCUMENT_BYTES, VerificationMethod
from gateway.errors import Conflict, GatewayError, InvalidInput, NotFound
from gateway.store import tables
from gateway.store.instance_state import DID_DOCUMENTS, state_version
from gateway.store.pinned_documents import (
    pinned,
    text_digest,
    text_size,
    unpinned,
    verified_document,
)
from gateway.store.tables import utcnow

#: Most DID documents pinned.
MAX_DID_DOCUMENTS = 200
#: Longest DID pinned (the column's width).
MAX_DID_LENGTH = 512
#: Most verification methods one pinned document lists.
MAX_METHODS = 64


@dataclass(frozen=True)
class PinnedDidEntry:
    """One pinned DID document, without the document."""

    did: str
    sha256: str
    size: int
    added_by: str
    added_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "did": self.did,
            "sha256": self.sha256,
            "bytes": self.size,
            "addedBy": self.added_by,
            "addedAt": self.added_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def check_did_document(data: bytes, own: Collection[str] = ()) -> dict[str, Any]:
    """Check a DID document before it is pinned.

    :param data: the document's bytes (JSON).
    :param own: the gateway's own DIDs, which are never pinned.
    :returns: the parsed document.
    :raises InvalidInput: not one ``did:web`` DID document with readable methods.
    :raises Conflict: the DID is one of the gateway's own.
    """
    if len(data) > MAX_DID_DOCUMENT_BYTES:
        raise InvalidInput(
            f"a DID document is at most {MAX_DID_DOCUMENT_BYTES} bytes", pointer="/document"
        )
    try:
        document = jsontext.loads(data, what="the DID document")
    except jsontext.JsonTextError as e:
        raise InvalidInput(str(e), pointer="/document") from None
    if not isinstance(document, dict):
        raise InvalidInput("a DID document is a JSON object", pointer="/document")
    did = document.get("id")
    if (
        not isinstance(did, str)
        or not did.startswith("did:web:")
        or len(did) > MAX_DID_LENGTH
        or not did.isascii()
        or not did.isprintable()
        or any(c in did for c in " #?/")
    ):
        raise InvalidInput(
            f"a pinned DID document is a JSON object whose id is a did:web DID of at most "
            f"{MAX_DID_LENGTH} characters (did:key resolves without one)",
            pointer="/document/id",
        )
    if did in own:
        raise Conflict(
            "that is the gateway's own DID; its document is made from its keys",
            pointer="/document/id",
        )
    methods = document.get("verificationMethod", [])
    if not isinstance(methods, list) or len(methods) > MAX_METHODS:
        raise InvalidInput(
            f"verificationMethod is an array of at most {MAX_METHODS} methods",
            pointer="/document/verificationMethod",
        )
    for n, entry in enumerate(methods):
        try:
            if not isinstance(entry, dict):
                raise InvalidInput("not an object")
            VerificationMethod.from_json(entry, base=did)
        except GatewayError as e:
            raise InvalidInput(
                f"verificationMethod {n}: {e.detail}",
                pointer=f"/document/verificationMethod/{n}",
            ) from None
    return document


class PinnedDidDocuments:
    """The pinned DID documents, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def version(self) -> int:
        """The documents' version, raised by every pin and unpin."""
        return state_version(self.session, DID_DOCUMENTS)

    def listing(self) -> list[PinnedDidEntry]:
        """Every pinned document, by DID."""
        rows = self.session.scalars(
            select(tables.PinnedDidDocument).order_by(tables.PinnedDidDocument.did)
        ).all()
        return [
            PinnedDidEntry(r.did, r.sha256, text_size(r.document), r.added_by, r.added_at)
            for r in rows
        ]

    def documents(self) -> dict[str, Any]:
        """Every pinned document, parsed, by DID (for the verifier's resolver).

        :raises InvalidInput: a stored document no longer matches its recorded hash.
        """
        return {
            row.did: verified_document(
                row.document, row.sha256, what=f"pinned DID document {row.did}", pointer="/did"
            )
            for row in self.session.scalars(select(tables.PinnedDidDocument)).all()
        }

    def add(self, data: bytes, *, own: Collection[str], actor: str) -> PinnedDidEntry:
        """Pin a DID document (audited).

        :raises InvalidInput / Conflict: see :func:`check_did_document`; also Conflict
            when the DID is pinned already or the set is full.
        """
        document = check_did_document(data, own)
        did = document["id"]
        if self.session.get(tables.PinnedDidDocument, did) is not None:
            raise Conflict(
                "that DID's document is pinned already; unpin it first to replace it",
                pointer="/document/id",
            )
        count = self.session.scalar(select(func.count()).select_from(tables.PinnedDidDocument))
        if (count or 0) >= MAX_DID_DOCUMENTS:
            raise Conflict(
                f"at most {MAX_DID_DOCUMENTS} DID documents can be pinned", pointer="/document"
            )
        text = data.decode("utf-8-sig")
        row = tables.PinnedDidDocument(
            did=did, sha256=text_digest(text), document=text, added_by=actor, added_at=utcnow()
        )
        pinned(
            self.session, row, state=DID_DOCUMENTS, actor=actor, action="did.pinned", subject=did
        )
        return PinnedDidEntry(did, row.sha256, text_size(text), actor, row.added_at)

    def remove(self, did: str, *, actor: str) -> None:
        """Unpin a DID document (audited).

        :raises NotFound: not pinned here.
        """
        row = self.session.get(tables.PinnedDidDocument, did)
        if row is None:
            raise NotFound("no pinned DID document of that DID", pointer="did")
        unpinned(
            self.session, row, state=DID_DOCUMENTS, actor=actor, action="did.unpinned", subject=did
        )
