"""Documents an operator pins by their exact bytes for the verifier (extra JSON-LD
contexts, other issuers' DID documents): kept as text beside the SHA-256 of its UTF-8
bytes, checked against it whenever read, and audited when pinned and unpinned. Each kind
has a version (:mod:`gateway.store.instance_state`) that every pin and unpin raises, so a
process that keeps the documents parsed rereads them once they change."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from gateway import jsontext
from gateway.errors import InvalidInput
from gateway.store.audit import AuditLog
from gateway.store.instance_state import raise_version


def text_digest(text: str) -> str:
    """The SHA-256 (hex) a pinned document's text is recorded with."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_size(text: str) -> int:
    """A pinned document's size in bytes, as listed."""
    return len(text.encode("utf-8"))


def verified_document(text: str, sha256: str, *, what: str, pointer: str) -> Any:
    """A stored document parsed, once its bytes are checked against its recorded hash.

    :param what: how messages name it (``pinned context https://…``).
    :raises InvalidInput: the stored text no longer matches its hash (pointer
        ``pointer``), or is not JSON.
    """
    raw = text.encode("utf-8")
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise InvalidInput(
            f"{what} does not match its recorded SHA-256; pin it again", pointer=pointer
        )
    return jsontext.loads(raw, what=what)


def pinned(
    session: Session, row: Any, *, state: str, actor: str, action: str, subject: str
) -> None:
    """Store a pinned document's new row, raise its kind's version (``state``) and audit
    it (``<kind>.pinned``)."""
    session.add(row)
    session.flush()
    raise_version(session, state)
    AuditLog(session).append(actor, action, subject, {"sha256": row.sha256})


def unpinned(
    session: Session, row: Any, *, state: str, actor: str, action: str, subject: str
) -> None:
    """Delete a pinned document's row, raise its kind's version and audit it
    (``<kind>.unpinned``)."""
    digest = row.sha256
    session.delete(row)
    session.flush()
    raise_version(session, state)
    AuditLog(session).append(actor, action, subject, {"sha256": digest})
