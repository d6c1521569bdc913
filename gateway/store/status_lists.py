"""Bitstring Status Lists: hand out entry indexes and flip bits.

W3C Bitstring Status List v1.0: index 0 is the most significant bit of the first byte
(§3.1 bitstring), the published ``encodedList`` is the multibase (``u``, base64url
without padding) GZIP of the bitstring, and a list should hold at least 131,072 entries
so that one credential's bit does not single out its holder (§6.1 herd privacy).

Allocation and bit changes read, modify and write one row; concurrent writers are
serialised on it (``SELECT ... FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE`` on
SQLite, see :mod:`gateway.store.db`). Allocate in a short unit of work of its own: the
row stays locked until that unit of work ends.

Every change of a list's bits or reasons raises its ``version`` (an ORM hook, so that
no writer can forget it): a verifier that keeps lists decoded reads that one number to
know whether its copy is current, instead of loading and decoding the list on every
request. A unit of work that changed a list raises the instance-wide status lists
counter too (:mod:`gateway.store.instance_state`) as it commits; a verifier reads it with
its other versions, and while it stands, no list changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import Mapper, Session, object_session

from gateway.credentials.status_list import encode_bitstring
from gateway.errors import Conflict, InvalidInput, NotFound, StatusListError
from gateway.store import tables
from gateway.store.instance_state import STATUS_LISTS, raise_version

MIN_SIZE = 131_072


#: Built once: the statement verifiers run on every use of a list.
_VERSION = select(tables.StatusList.version).where(tables.StatusList.id == bindparam("id"))


#: ``Session.info`` key: a list's bits or reasons changed in this unit of work.
_CHANGED = "status_lists_changed"


@event.listens_for(tables.StatusList, "before_update")
def _next_version(mapper: Mapper[Any], connection: Any, target: tables.StatusList) -> None:
    # Only what a verifier reads counts (the bits and their reasons): handing out indexes
    # during issuance leaves the verifiers' copies current. Writers hold the row lock
    # (FOR UPDATE / BEGIN IMMEDIATE), so increments never race.
    attrs = inspect(target).attrs
    if attrs.bitstring.history.has_changes() or attrs.reasons.history.has_changes():
        target.version = (target.version or 0) + 1
        session = object_session(target)
        if session is not None:
            session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _count_changes(session: Session) -> None:
    # The instance-wide counter is raised once per unit of work, after its lists are
    # written: its row is locked by every writer that changes a list, so it is taken last,
    # when no list lock is asked for any more (taken at the first list's write, a writer
    # holding it could wait for a list another writer holds while waiting for it). A
    # flag left by a unit of work rolled back costs one more raise, no more.
    session.flush()
    if session.info.pop(_CHANGED, False):
        raise_version(session, STATUS_LISTS)


@dataclass(frozen=True)
class StatusListInfo:
    """A status list without its bits."""

    id: str
    purpose: str
    issuer: str
    size: int
    next_index: int
    created_at: datetime

    @property
    def full(self) -> bool:
        """Whether every index has been handed out."""
        return self.next_index >= self.size


@dataclass(frozen=True)
class StatusEntry:
    """One credential's place in a status list (``credentialStatus``)."""

    list_id: str
    index: int
    purpose: str


def _info(row: tables.StatusList) -> StatusListInfo:
    return StatusListInfo(
        id=row.id,
        purpose=row.purpose,
        issuer=row.issuer,
        size=row.size,
        next_index=row.next_index,
        created_at=row.created_at,
    )


class StatusLists:
    """Status lists, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self, list_id: str, purpose: str, issuer: str, size: int = MIN_SIZE
    ) -> StatusListInfo:
        """Create an empty list.

        :param list_id: URL of the status list credential.
        :param purpose: ``revocation`` or ``suspension``.
        :param issuer: DID of the issuer whose credentials use the list.
        :param size: number of entries, a positive multiple of 8 (default: the
            herd-privacy minimum of 131,072).
        :returns: the list.
        :raises InvalidInput: for an unknown purpose or a bad size.
        :raises Conflict: when the id is taken.
        """
        if purpose not in tables.STATUS_PURPOSES:
            raise InvalidInput(
                f"status purpose must be one of {', '.join(tables.STATUS_PURPOSES)}",
                pointer="/statusPurpose",
            )
        if size <= 0 or size % 8:
            raise InvalidInput("status list size must be a positive multiple of 8", pointer="/size")
        if self.session.get(tables.StatusList, list_id) is not None:
            raise Conflict(f"status list {list_id} already exists")
        row = tables.StatusList(
            id=list_id,
            purpose=purpose,
            issuer=issuer,
            bitstring=bytes(size // 8),
            size=size,
            next_index=0,
        )
        self.session.add(row)
        self.session.flush()
        return _info(row)

    def get(self, list_id: str) -> StatusListInfo:
        """A list's description.

        :param list_id: its id.
        :returns: the list.
        :raises NotFound: for an unknown list.
        """
        return _info(self._row(list_id))

    def open_list(self, issuer: str, purpose: str) -> StatusListInfo | None:
        """The newest list of this issuer and purpose with indexes left.

        :param issuer: issuer DID.
        :param purpose: ``revocation`` or ``suspension``.
        :returns: the list, or ``None`` when a new one must be created.
        """
        row = self.session.scalar(
            select(tables.StatusList)
            .where(
                tables.StatusList.issuer == issuer,
                tables.StatusList.purpose == purpose,
                tables.StatusList.next_index < tables.StatusList.size,
            )
            .order_by(tables.StatusList.created_at.desc(), tables.StatusList.id.desc())
            .limit(1)
        )
        return None if row is None else _info(row)

    def allocate(self, list_id: str) -> StatusEntry:
        """Hand out the next unused index; no two callers ever get the same one.

        :param list_id: the list.
        :returns: the entry.
        :raises NotFound: for an unknown list.
        :raises StatusListError: when the list is full.
        """
        row = self._row(list_id, lock=True)
        if row.allocated is not None:
            # Its indexes are drawn at random by the status registry, which keeps the map.
            raise Conflict(f"status list {list_id} is allocated at random; use the registry")
        if row.next_index >= row.size:
            raise StatusListError(f"status list {list_id} is full ({row.size} entries)")
        index = row.next_index
        row.next_index = index + 1
        self.session.flush()
        return StatusEntry(list_id=row.id, index=index, purpose=row.purpose)

    def set_bit(self, list_id: str, index: int, value: bool = True) -> None:
        """Set or clear one entry's bit.

        :param list_id: the list.
        :param index: the entry.
        :param value: ``True`` = revoked / suspended.
        :raises NotFound: for an unknown list.
        :raises StatusListError: for an index outside the list.
        """
        row = self._row(list_id, lock=True)
        self._check_index(row, index)
        bits = bytearray(row.bitstring)
        mask = 0x80 >> (index % 8)
        if value:
            bits[index // 8] |= mask
        else:
            bits[index // 8] &= ~mask & 0xFF
        if bytes(bits) != row.bitstring:
            row.bitstring = bytes(bits)
            self.session.flush()

    def bit(self, list_id: str, index: int) -> bool:
        """Read one entry's bit.

        :param list_id: the list.
        :param index: the entry.
        :returns: the bit.
        :raises NotFound: for an unknown list.
        :raises StatusListError: for an index outside the list.
        """
        row = self._row(list_id)
        self._check_index(row, index)
        return bool(row.bitstring[index // 8] & (0x80 >> (index % 8)))

    def version(self, list_id: str) -> int | None:
        """A list's version, raised by every change of it: one small column read.

        :param list_id: the list.
        :returns: the version, or ``None`` for an unknown list.
        """
        # Core on the unit of work's connection: no ORM result machinery for one integer.
        found = self.session.connection().execute(_VERSION, {"id": list_id}).scalar_one_or_none()
        return None if found is None else int(found)

    def bitstring(self, list_id: str) -> bytes:
        """The raw bitstring.

        :param list_id: the list.
        :returns: ``size / 8`` bytes.
        :raises NotFound: for an unknown list.
        """
        return bytes(self._row(list_id).bitstring)

    def encoded(self, list_id: str) -> str:
        """The list's ``encodedList``, ready for its status list credential.

        :param list_id: the list.
        :returns: the encoded bitstring (see :func:`encode_bitstring`).
        :raises NotFound: for an unknown list.
        """
        return encode_bitstring(self.bitstring(list_id))

    @staticmethod
    def _check_index(row: tables.StatusList, index: int) -> None:
        if not 0 <= index < row.size:
            raise StatusListError(
                f"status index {index} is outside list {row.id} (0..{row.size - 1})",
                pointer="/statusListIndex",
            )

    def _row(self, list_id: str, lock: bool = False) -> tables.StatusList:
        query = select(tables.StatusList).where(tables.StatusList.id == list_id)
        if lock:
            # FOR UPDATE on PostgreSQL; SQLite ignores it and relies on BEGIN IMMEDIATE.
            query = query.with_for_update()
        row = self.session.scalar(query.execution_options(populate_existing=True))
        if row is None:
            raise NotFound(f"no status list {list_id}")
        return row
