"""Extra JSON-LD contexts pinned for the verifier, kept in the database.

An importer verifying other issuers' credentials needs their contexts (for example
``https://www.w3.org/ns/credentials/examples/v2``). The gateway never fetches a context:
an operator adds the exact bytes once, the SHA-256 of those bytes is recorded, and the
verifier serves them from here. Every instance sharing the database sees the same set:
each pin and unpin raises the contexts' version, and a process keeping them parsed
rereads them at its next verification.
Adding and removing are audited (``context.pinned`` / ``context.unpinned``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import jsontext
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.store import tables
from gateway.store.instance_state import CONTEXTS
from gateway.store.pinned_documents import (
    pinned,
    text_digest,
    text_size,
    unpinned,
    verified_document,
)
from gateway.store.tables import utcnow

#: Largest context document accepted (the W3C VC v2 context is about 12 KB).
MAX_CONTEXT_BYTES = 256 * 1024
#: Most extra contexts pinned.
MAX_CONTEXTS = 200
#: Longest context URL.
MAX_URL_LENGTH = 512


@dataclass(frozen=True)
class PinnedContextEntry:
    """One extra pinned context, without its document."""

    url: str
    sha256: str
    size: int
    added_by: str
    added_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "sha256": self.sha256,
            "bytes": self.size,
            "source": "database",
            "addedBy": self.added_by,
            "addedAt": self.added_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def check_context(url: str, data: bytes, shipped: Mapping[str, Any]) -> Any:
    """Check a context before it is pinned.

    :param url: where credentials name it: an absolute ``https`` URL, no fragment.
    :param data: the document's bytes.
    :param shipped: the contexts the gateway ships (they cannot be replaced).
    :returns: the parsed document.
    :raises InvalidInput: a bad URL, or bytes that are not one JSON-LD context document.
    :raises Conflict: the URL is one of the shipped contexts.
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or parts.fragment
        or len(url) > MAX_URL_LENGTH
        or not url.isascii()
        or any(c.isspace() for c in url)
    ):
        raise InvalidInput(
            f"url must be an absolute https URL of at most {MAX_URL_LENGTH} characters "
            "without a fragment",
            pointer="/url",
        )
    if url in shipped:
        raise Conflict(
            "that context is shipped with the gateway and pinned already", pointer="/url"
        )
    if len(data) > MAX_CONTEXT_BYTES:
        raise InvalidInput(
            f"a context document is at most {MAX_CONTEXT_BYTES} bytes", pointer="/document"
        )
    try:
        document = jsontext.loads(data, what="the context document")
    except jsontext.JsonTextError as e:
        raise InvalidInput(str(e), pointer="/document") from None
    if not isinstance(document, dict) or not isinstance(document.get("@context"), dict | list):
        raise InvalidInput(
            "a context document is a JSON object with an @context object or array",
            pointer="/document/@context",
        )
    return document


class PinnedContexts:
    """The extra pinned contexts, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def listing(self) -> list[PinnedContextEntry]:
        """Every extra context, by URL."""
        rows = self.session.scalars(
            select(tables.PinnedContext).order_by(tables.PinnedContext.url)
        ).all()
        return [
            PinnedContextEntry(r.url, r.sha256, text_size(r.document), r.added_by, r.added_at)
            for r in rows
        ]

    def documents(self) -> dict[str, Any]:
        """Every extra context, parsed, by URL (for the verifier's document loader).

        :raises InvalidInput: a stored document no longer matches its recorded hash.
        """
        return {
            row.url: verified_document(
                row.document, row.sha256, what=f"pinned context {row.url}", pointer="/url"
            )
            for row in self.session.scalars(select(tables.PinnedContext)).all()
        }

    def add(
        self, url: str, data: bytes, *, shipped: Mapping[str, Any], actor: str
    ) -> PinnedContextEntry:
        """Pin a context (audited).

        :raises InvalidInput: see :func:`check_context`. :raises Conflict: already pinned,
            shipped, or the set is full.
        """
        check_context(url, data, shipped)
        text = data.decode("utf-8-sig")
        if self.session.get(tables.PinnedContext, url) is not None:
            raise Conflict(
                "that context URL is pinned already; unpin it first to replace it", pointer="/url"
            )
        if len(self.session.scalars(select(tables.PinnedContext.url)).all()) >= MAX_CONTEXTS:
            raise Conflict(f"at most {MAX_CONTEXTS} extra contexts can be pinned", pointer="/url")
        row = tables.PinnedContext(
            url=url, sha256=text_digest(text), document=text, added_by=actor, added_at=utcnow()
        )
        pinned(self.session, row, state=CONTEXTS, actor=actor, action="context.pinned", subject=url)
        return PinnedContextEntry(url, row.sha256, text_size(text), actor, row.added_at)

    def remove(self, url: str, *, actor: str) -> None:
        """Unpin a context (audited).

        :raises NotFound: not pinned here.
        """
        row = self.session.get(tables.PinnedContext, url)
        if row is None:
            raise NotFound("no extra pinned context at that URL", pointer="url")
        unpinned(
            self.session, row, state=CONTEXTS, actor=actor, action="context.unpinned", subject=url
        )
