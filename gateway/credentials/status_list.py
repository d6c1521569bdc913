"""W3C Bitstring Status List v1.0: revocation, suspension and supersession of credentials.

Issuing side: each credential gets one index in the current revocation list and one in
the current suspension list (``BitstringStatusListEntry`` objects). Indexes are drawn at
random without reuse, so that the index says nothing about when or in which order a
credential was issued (Bitstring Status List §6.1, herd privacy). Lists live behind
:class:`StatusListStore`; :class:`FileStatusListStore` keeps them as JSON in the
instance folder.

Supersession (a second-life battery's new passport replaces the original, Art. 77(7)):
the spec's purposes are ``revocation``, ``suspension``, ``refresh`` and ``message``.
``refresh`` asks the holder to fetch a new credential, and a ``message`` list is ignored
by verifiers that only read revocation and suspension, so supersession sets the
**revocation** bit (the original may no longer be relied on, permanently) and records the
reason ``superseded by <new passport id>`` with the list, where this gateway's verifier
reports it.

Verifying side (§3.2 "Validate Algorithm"): dereference the list from a local source
(fail closed when it cannot be found), check its type, purpose, issuer (must be the
credential's issuer and signed with a key that issuer controls), that its id is the URL
the entry points to, its validity period and proof, its length (at least 131,072 entries),
the index range, then read the bit. Bit ``i`` is bit ``0x80 >> (i % 8)`` of byte
``i // 8`` (index 0 is the left-most bit).

Why one module of some 550 lines: issuing and verifying read the same list format (the
bitstring codec, the entry shape, the purposes, the supersession reason) and the
registry serves its own lists to the verifier (:meth:`StatusRegistry.source`), so both
sides change together whenever the format does; this module is the one place that
defines the W3C format for both.
"""

from __future__ import annotations

import gzip
import json
import secrets
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from gateway.credentials import base64url
from gateway.credentials.checks import Check
from gateway.credentials.model import (
    VC_TYPE,
    as_list,
    format_datetime,
    issuer_id,
    parse_datetime,
)
from gateway.errors import CredentialError, StatusListError
from gateway.vocab.loader import CREDENTIALS_V2

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
PURPOSES = ("revocation", "suspension", "refresh", "message")
#: §3.1: a list has at least 16 KB (131,072 entries) for herd privacy.
MIN_ENTRIES = 131_072
#: Largest decompressed list accepted (a gzip bomb would otherwise cost memory).
MAX_LIST_BYTES = 16 * 1024 * 1024
#: Random allocation opens a new list past this share, so draws stay cheap.
RANDOM_FILL_LIMIT = 0.875
SPEC = "https://www.w3.org/ns/credentials/status-list"
SUPERSEDED_PREFIX = "superseded by "


def encode_bitstring(bits: bytes | bytearray) -> str:
    """``encodedList``: Multibase base64url (``u``, no padding) of the GZIP of ``bits``."""
    return base64url.encode_multibase(gzip.compress(bytes(bits), mtime=0))


def decode_bitstring(encoded: object, *, min_entries: int = MIN_ENTRIES) -> bytes:
    """Decode an ``encodedList``.

    :param encoded: ``u`` + base64url(gzip(bitstring)).
    :param min_entries: fewer bits raise STATUS_LIST_LENGTH_ERROR.
    :returns: the bitstring bytes.
    :raises StatusListError: bad multibase prefix, base64url, gzip, or too short / long.
    """
    packed = base64url.decode_multibase(encoded, "encodedList", error=StatusListError)
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        bits = inflater.decompress(packed, MAX_LIST_BYTES + 1)
    except zlib.error as e:
        raise StatusListError(f"encodedList is not GZIP data ({e})") from e
    if len(bits) > MAX_LIST_BYTES or inflater.unconsumed_tail:
        raise StatusListError(f"encodedList expands beyond {MAX_LIST_BYTES} bytes")
    if not inflater.eof:
        raise StatusListError("encodedList GZIP stream is truncated")
    if len(bits) * 8 < min_entries:
        raise StatusListError(
            f"STATUS_LIST_LENGTH_ERROR: {len(bits) * 8} entries, at least {min_entries} required"
        )
    return bits


def get_bit(bits: bytes | bytearray, index: int) -> bool:
    """The status bit at ``index`` (MSB-first).

    :raises StatusListError: RANGE_ERROR when ``index`` is outside the list.
    """
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"RANGE_ERROR: index {index} outside 0..{len(bits) * 8 - 1}")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(bits: bytearray, index: int, value: bool) -> None:
    """Set or clear the status bit at ``index`` (MSB-first).

    :raises StatusListError: RANGE_ERROR when ``index`` is outside the list.
    """
    get_bit(bits, index)
    if value:
        bits[index // 8] |= 0x80 >> (index % 8)
    else:
        bits[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF


@dataclass
class StatusList:
    """One status list as the issuer keeps it (mutable: bits flip over its life).

    :param url: the status list credential's id (``statusListCredential``).
    :param purpose: ``revocation`` or ``suspension``.
    :param issuer: the issuer DID that signs the list credential.
    :param created: when the list was opened.
    :param bits: the status bits.
    :param allocated: one bit per index handed out, so no index is used twice.
    :param reasons: why a bit was set, by index (e.g. ``superseded by ...``).
    """

    url: str
    purpose: str
    issuer: str
    created: str
    bits: bytearray
    allocated: bytearray
    reasons: dict[int, str] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def new(cls, url: str, purpose: str, issuer: str, size: int = MIN_ENTRIES) -> StatusList:
        """An empty list of ``size`` entries (a multiple of 8, at least 131,072)."""
        if size < MIN_ENTRIES or size % 8:
            raise StatusListError(f"list size {size}: a multiple of 8, >= {MIN_ENTRIES}")
        if purpose not in PURPOSES:
            raise StatusListError(f"status purpose {purpose!r} is not one of {PURPOSES}")
        created = format_datetime(datetime.now(UTC))
        return cls(url, purpose, issuer, created, bytearray(size // 8), bytearray(size // 8))

    @property
    def size(self) -> int:
        return len(self.bits) * 8

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "purpose": self.purpose,
            "issuer": self.issuer,
            "created": self.created,
            "count": self.count,
            "encodedList": encode_bitstring(self.bits),
            "allocatedList": encode_bitstring(self.allocated),
            "reasons": {str(k): v for k, v in sorted(self.reasons.items())},
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> StatusList:
        return cls(
            obj["url"],
            obj["purpose"],
            obj["issuer"],
            obj["created"],
            bytearray(decode_bitstring(obj["encodedList"])),
            bytearray(decode_bitstring(obj["allocatedList"])),
            {int(k): v for k, v in obj.get("reasons", {}).items()},
            int(obj.get("count", 0)),
        )

    def credential(self) -> dict[str, Any]:
        """The unsigned ``BitstringStatusListCredential`` (§2.2) of this list."""
        return {
            "@context": [CREDENTIALS_V2],
            "id": self.url,
            "type": [VC_TYPE, LIST_CREDENTIAL_TYPE],
            "issuer": self.issuer,
            # No validFrom: the list is a live document whose bits change; a verifier
            # judging a credential at an earlier --now must still be able to read it.
            "credentialSubject": {
                "id": f"{self.url}#list",
                "type": LIST_TYPE,
                "statusPurpose": self.purpose,
                "encodedList": encode_bitstring(self.bits),
            },
        }


class StatusListStore(Protocol):
    """Where status lists are kept (a file folder now; a database table later)."""

    def load(self, url: str) -> StatusList | None:
        """The list whose credential id is ``url``, or None."""

    def save(self, status_list: StatusList) -> None:
        """Persist ``status_list`` (create or replace)."""

    def urls(self) -> list[str]:
        """The ids of every list."""


class FileStatusListStore:
    """Status lists as one JSON file each in a folder (``<instance>/status``).

    :param folder: the folder; created on first save.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._index: dict[str, Path] | None = None

    def _files(self) -> dict[str, Path]:
        if self._index is None:
            self._index = {}
            if self.folder.is_dir():
                for path in sorted(self.folder.glob("*.json")):
                    try:
                        self._index[json.loads(path.read_text(encoding="utf-8"))["url"]] = path
                    except (OSError, ValueError, KeyError) as e:
                        raise StatusListError(f"{path}: unreadable status list ({e})") from e
        return self._index

    def load(self, url: str) -> StatusList | None:
        path = self._files().get(url)
        if path is None:
            return None
        try:
            return StatusList.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as e:
            raise StatusListError(f"{path}: unreadable status list ({e})") from e

    def save(self, status_list: StatusList) -> None:
        files = self._files()
        path = files.get(status_list.url)
        if path is None:
            stem = "-".join(status_list.url.rstrip("/").split("/")[-2:])
            stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
            taken = {p.name for p in files.values()}
            path = self.folder / f"{stem}.json"
            while path.name in taken:
                path = path.with_name(f"{path.stem}_.json")
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(status_list.as_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        files[status_list.url] = path

    def urls(self) -> list[str]:
        return sorted(self._files())


def entry(url: str, purpose: str, index: int) -> dict[str, str]:
    """A ``BitstringStatusListEntry`` (§2.1); the index is a string, as the spec says."""
    return {
        "id": f"{url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


class StatusRegistry:
    """Allocates status entries and flips status bits for one issuer.

    :param store: where the lists are kept.
    :param base_url: the gateway's public base URL.
    :param issuer: the issuer DID of the list credentials.
    :param size: entries per list.
    :param sequential: hand out indexes in order instead of at random (tests, debugging).
    :param list_url: URL of the ``n``-th list of a purpose, ``{base}``, ``{purpose}`` and
        ``{n}`` filled in; ``{n}`` comes last. The service's lists are
        ``{base}/status-lists/{purpose}-{n}``, the URLs it serves them at.
    """

    def __init__(
        self,
        store: StatusListStore,
        *,
        base_url: str,
        issuer: str,
        size: int = MIN_ENTRIES,
        sequential: bool = False,
        list_url: str = "{base}/status/{purpose}/{n}",
    ) -> None:
        if not list_url.endswith("{n}"):
            raise StatusListError(f"list URL template {list_url!r} must end with {{n}}")
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.list_url = list_url
        self.issuer = issuer
        self.size = size
        self.sequential = sequential
        self._random = secrets.SystemRandom()

    def _current(self, purpose: str) -> StatusList:
        prefix = self.list_url.format(base=self.base_url, purpose=purpose, n="")
        numbers = [
            int(u[len(prefix) :])
            for u in self.store.urls()
            if u.startswith(prefix) and u[len(prefix) :].isdigit()
        ]
        last = max(numbers, default=0)
        limit = self.size if self.sequential else int(self.size * RANDOM_FILL_LIMIT)
        if last:
            current = self.store.load(f"{prefix}{last}")
            if current is not None and current.count < min(limit, current.size):
                return current
        return StatusList.new(f"{prefix}{last + 1}", purpose, self.issuer, self.size)

    def allocate(
        self, purposes: Sequence[str] = ("revocation", "suspension"), count: int = 1
    ) -> list[list[dict[str, str]]]:
        """Reserve status entries for ``count`` credentials.

        :param purposes: the lists each credential gets an entry in.
        :param count: how many credentials.
        :returns: per credential, its entries (one per purpose).
        """
        out: list[list[dict[str, str]]] = [[] for _ in range(count)]
        for purpose in purposes:
            given = 0
            while given < count:
                status_list = self._current(purpose)
                limit = (
                    status_list.size
                    if self.sequential
                    else int(status_list.size * RANDOM_FILL_LIMIT)
                )
                while given < count and status_list.count < limit:
                    index = self._draw(status_list)
                    set_bit(status_list.allocated, index, True)
                    status_list.count += 1
                    out[given].append(entry(status_list.url, purpose, index))
                    given += 1
                self.store.save(status_list)
        return out

    def _draw(self, status_list: StatusList) -> int:
        if self.sequential:
            index = status_list.count
            while get_bit(status_list.allocated, index):
                index += 1
            return index
        while True:
            index = self._random.randrange(status_list.size)
            if not get_bit(status_list.allocated, index):
                return index

    def _target(self, credential: Mapping[str, Any], purpose: str) -> tuple[StatusList, int]:
        for item in as_list(credential.get("credentialStatus")):
            if isinstance(item, Mapping) and item.get("statusPurpose") == purpose:
                status_list = self.store.load(str(item.get("statusListCredential")))
                if status_list is None:
                    raise StatusListError(
                        f"status list {item.get('statusListCredential')} is not one of ours",
                        pointer="/credentialStatus",
                    )
                index = _index_of(item)
                if not get_bit(status_list.allocated, index):
                    raise StatusListError(f"index {index} was never allocated in {status_list.url}")
                return status_list, index
        raise StatusListError(
            f"credential has no {purpose} status entry", pointer="/credentialStatus"
        )

    def set_status(
        self, credential: Mapping[str, Any], purpose: str, value: bool, reason: str = ""
    ) -> None:
        """Set (or clear) the credential's bit in its ``purpose`` list.

        :raises StatusListError: the credential has no entry of that purpose in our lists.
        """
        status_list, index = self._target(credential, purpose)
        set_bit(status_list.bits, index, value)
        if value and reason:
            status_list.reasons[index] = reason
        elif not value:
            status_list.reasons.pop(index, None)
        self.store.save(status_list)

    def revoke(self, credential: Mapping[str, Any], reason: str = "revoked") -> None:
        """Revoke for good (a revocation bit is never cleared)."""
        self.set_status(credential, "revocation", True, reason)

    def suspend(self, credential: Mapping[str, Any], reason: str = "suspended") -> None:
        """Suspend until :meth:`unsuspend`."""
        self.set_status(credential, "suspension", True, reason)

    def unsuspend(self, credential: Mapping[str, Any]) -> None:
        """Lift a suspension."""
        self.set_status(credential, "suspension", False)

    def supersede(self, credential: Mapping[str, Any], new_passport_id: str) -> None:
        """Mark a credential as replaced by the passport ``new_passport_id`` (revocation bit
        plus the recorded reason)."""
        self.set_status(credential, "revocation", True, SUPERSEDED_PREFIX + new_passport_id)

    def source(self) -> StatusSource:
        """A :data:`StatusSource` over this issuer's own lists (trusted without a proof)."""

        def fetch(url: str) -> FetchedList | None:
            status_list = self.store.load(url)
            if status_list is None:
                return None
            return FetchedList(status_list.credential(), local=True, reasons=status_list.reasons)

        return fetch


@dataclass(frozen=True)
class FetchedList:
    """A status list credential as a verifier obtained it.

    :param credential: the ``BitstringStatusListCredential``.
    :param local: it comes from this gateway's own store, so it needs no proof check.
    :param reasons: recorded reasons by index (local lists only).
    :param bits: the bitstring already decoded (local lists only: the gateway's own
        bits, so the ``encodedList`` need not be decompressed again).
    """

    credential: Mapping[str, Any]
    local: bool = False
    reasons: Mapping[int, str] = field(default_factory=dict)
    bits: bytes | None = None


StatusSource = Callable[[str], FetchedList | None]


#: Decoded lists one process keeps (per database): a list of 131,072 entries holds 16 KiB
#: of bits and its credential, so the cache stays under a few MiB.
CACHED_LISTS = 64


class StatusListCache:
    """This gateway's own status lists, decoded, each with the version it was read at.

    Loading and decoding a list costs far more than reading its version, which every
    change raises (the store keeps it): a verifier asks the version on each use and
    reloads only when it moved, so a revocation written by any process sharing the
    database is seen by the very next verification. A verifier that also reads the
    instance-wide counter every change of any list raises (the *state*) asks no list at
    all while the counter stands where it stood when the list was last found current.
    Least recently used lists leave first; safe to share between threads.

    :param size: most lists kept.
    """

    def __init__(self, size: int = CACHED_LISTS) -> None:
        self.size = size
        # url -> (version of the list, the list, state it was last found current at)
        self._lists: OrderedDict[str, tuple[int, FetchedList, int | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._lists)

    def current(self, url: str, state: int) -> FetchedList | None:
        """The list ``url`` if it was found current when the state stood at ``state``."""
        with self._lock:
            found = self._lists.get(url)
            if found is None or found[2] != state:
                return None
            self._lists.move_to_end(url)
            return found[1]

    def get(self, url: str, version: int, state: int | None = None) -> FetchedList | None:
        """The list ``url`` if it is held at ``version``; then current at ``state``."""
        with self._lock:
            found = self._lists.get(url)
            if found is None or found[0] != version:
                return None
            self._lists[url] = (version, found[1], state)
            self._lists.move_to_end(url)
            return found[1]

    def put(self, url: str, version: int, fetched: FetchedList, state: int | None = None) -> None:
        """Hold the list ``url`` as read at ``version``, current at ``state``."""
        with self._lock:
            self._lists[url] = (version, fetched, state)
            self._lists.move_to_end(url)
            while len(self._lists) > self.size:
                self._lists.popitem(last=False)


def cached_source(
    version_of: Callable[[str], int | None],
    load: Callable[[str], tuple[StatusList, int] | None],
    cache: StatusListCache,
    state: int | None = None,
) -> StatusSource:
    """A :data:`StatusSource` over this issuer's own lists (trusted without a proof),
    decoded once per version of each list.

    :param version_of: the current version of a list, ``None`` for an unknown one.
    :param load: a list with the version it was read at.
    :param cache: where decoded lists are kept between requests.
    :param state: the instance-wide counter every change of a list raises, read before
        this source is used (``version_of`` and ``load`` read later, so they hold every
        change it counts); ``None`` asks every list.
    """

    def fetch(url: str) -> FetchedList | None:
        if state is not None:
            # Found current at this state: no list has changed since (lists are never
            # deleted). A list read after the state holds every change the state counts.
            found = cache.current(url, state)
            if found is not None:
                return found
        version = version_of(url)
        if version is None:
            return None
        found = cache.get(url, version, state)
        if found is not None:
            return found
        loaded = load(url)
        if loaded is None:
            return None
        status_list, read_at = loaded
        # Kept under the version it was read at: if the list changed between the two
        # reads, the next use finds a newer version and loads again.
        found = FetchedList(
            status_list.credential(),
            local=True,
            reasons=dict(status_list.reasons),
            bits=bytes(status_list.bits),
        )
        cache.put(url, read_at, found, state)
        return found

    return fetch


def documents_source(documents: Iterable[Mapping[str, Any]]) -> StatusSource:
    """A source over status list credentials given as documents, found by their ``id``."""
    by_id = {d.get("id"): d for d in documents if isinstance(d, Mapping)}

    def fetch(url: str) -> FetchedList | None:
        found = by_id.get(url)
        return FetchedList(found) if found is not None else None

    return fetch


def chain(*sources: StatusSource) -> StatusSource:
    """The first answer of several sources."""

    def fetch(url: str) -> FetchedList | None:
        for source in sources:
            found = source(url)
            if found is not None:
                return found
        return None

    return fetch


def is_status_list_credential(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` is a ``BitstringStatusListCredential``."""
    return LIST_CREDENTIAL_TYPE in as_list(document.get("type"))


def _index_of(item: Mapping[str, Any]) -> int:
    raw = item.get("statusListIndex")
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        raise StatusListError(
            f"statusListIndex {raw!r} must be a string holding a non-negative integer",
            pointer="/credentialStatus/statusListIndex",
        )
    return int(raw)


def check_status(
    credential: Mapping[str, Any],
    source: StatusSource,
    *,
    now: datetime,
    verify_list: Callable[[Mapping[str, Any]], Sequence[Check]],
) -> list[Check]:
    """Validate every ``credentialStatus`` entry of a credential (§3.2).

    :param credential: the credential.
    :param source: finds status list credentials by URL; never the network.
    :param now: the time the list's validity period is checked against.
    :param verify_list: verifies the list credential's proof (a remote list must be
        secured; lists from the local store are trusted).
    :returns: one ``status.<purpose>`` check per entry; none when the credential has no
        status; never raises.
    """
    checks: list[Check] = []
    issuer = issuer_id(credential)
    for item in as_list(credential.get("credentialStatus")):
        purpose = item.get("statusPurpose") if isinstance(item, Mapping) else None
        check_id = f"status.{purpose}" if purpose in PURPOSES else "status"
        try:
            note = _check_entry(item, issuer, source, now, verify_list)
        except (StatusListError, CredentialError) as e:
            checks.append(Check(check_id, False, e.detail))
        except (TypeError, ValueError, KeyError) as e:
            checks.append(Check(check_id, False, f"malformed status entry or list ({e})"))
        else:
            checks.append(Check(check_id, True, note))
    return checks


def _check_entry(
    item: Any,
    issuer: str | None,
    source: StatusSource,
    now: datetime,
    verify_list: Callable[[Mapping[str, Any]], Sequence[Check]],
) -> str:
    if not isinstance(item, Mapping) or item.get("type") != ENTRY_TYPE:
        raise StatusListError(f"credentialStatus entry is not a {ENTRY_TYPE}")
    purpose = item.get("statusPurpose")
    if purpose not in PURPOSES:
        raise StatusListError(f"statusPurpose {purpose!r} is not one of {', '.join(PURPOSES)}")
    index = _index_of(item)
    url = item.get("statusListCredential")
    if not isinstance(url, str) or not url:
        raise StatusListError("statusListCredential must be a URL")
    if item.get("id") == url:
        raise StatusListError("entry id must not equal statusListCredential (§2.1)")
    if item.get("statusSize", 1) != 1:
        raise StatusListError("statusSize other than 1 (status messages) is not supported")
    fetched = source(url)
    if fetched is None:
        raise StatusListError(f"STATUS_RETRIEVAL_ERROR: status list {url} not available locally")
    doc = fetched.credential
    if doc.get("id") != url:
        raise StatusListError(f"STATUS_VERIFICATION_ERROR: the list found for {url} has another id")
    if not is_status_list_credential(doc):
        raise StatusListError(f"STATUS_VERIFICATION_ERROR: {url} is not a {LIST_CREDENTIAL_TYPE}")
    subject = doc.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != LIST_TYPE:
        raise StatusListError(f"STATUS_VERIFICATION_ERROR: {url} subject is not a {LIST_TYPE}")
    if purpose not in as_list(subject.get("statusPurpose")):
        raise StatusListError(
            f"STATUS_VERIFICATION_ERROR: list purpose {subject.get('statusPurpose')!r} "
            f"does not match entry purpose {purpose!r}"
        )
    if issuer_id(doc) != issuer:
        raise StatusListError(
            f"STATUS_VERIFICATION_ERROR: list issuer {issuer_id(doc)!r} is not the "
            f"credential issuer {issuer!r}"
        )
    for name, late in (("validFrom", False), ("validUntil", True)):
        if name in doc:
            moment = parse_datetime(doc[name], field=f"{url}/{name}")
            if (now > moment) if late else (now < moment):
                state = "expired" if late else "not valid yet"
                raise StatusListError(
                    f"STATUS_VERIFICATION_ERROR: status list {state} ({name} {doc[name]})"
                )
    if not fetched.local:
        failed = [c for c in verify_list(doc) if not c.ok]
        if failed:
            why = "; ".join(f"{c.id}: {c.reason}" for c in failed)
            raise StatusListError(f"STATUS_VERIFICATION_ERROR: list proof: {why}")
    bits = (
        fetched.bits if fetched.bits is not None else decode_bitstring(subject.get("encodedList"))
    )
    if get_bit(bits, index):
        word = {"revocation": "revoked", "suspension": "suspended"}.get(purpose)
        reason = fetched.reasons.get(index, "")
        if word is None:
            return f"{purpose} bit {index} set in {url}"
        why = f" ({reason})" if reason else ""
        raise StatusListError(f"{word}: bit {index} set in {url}{why}")
    return f"bit {index} clear in {url}"
