"""Encryption at rest: envelope encryption of stored record content.

Layout (``docs/operations.md``, Keys):

- A **key-encryption key** (KEK) never enters the database. The embedded default keeps
  each one as a file in the instance folder (``keys/kek/<id>.json``, made by
  ``gateway init`` and ``gateway keys kek create``); an operator's KMS plugs in through
  :class:`KeyEncryptionKeys`, a protocol of three methods.
- A **data key** per tenant and calendar year of storage (table ``data_keys``), wrapped
  by a KEK. Per tenant, so one tenant's key never opens another's rows; per year, so
  retention can crypto-shred a whole year once every row sealed under it is due, while a
  KEK rotation re-wraps a few keys instead of re-encrypting every row. What must outlive
  the records (the credentials beyond the public point, kept as long as the passport)
  is sealed under the tenant's :data:`LASTING` key, which retention never destroys.
- Each value is sealed with an authenticated cipher: AES-256-GCM by default, SM4-GCM
  (GB/T 32907 in the GCM mode of RFC 8998) for operators bound to China's
  commercial-cryptography rules. The associated data binds each ciphertext to its row
  (table, row id, tenant), so a ciphertext copied onto another row does not open.

The sealed form is ``version (1) | data key id (4, big-endian) | nonce (12) |
ciphertext and tag``. Version 3, which the gateway writes, says the JSON text was
compressed with Zstandard (RFC 8878) and the dictionary ``seal-dictionary-2.json`` before
it was sealed; version 2 (zlib with the preset dictionary ``seal-dictionary-1.json``)
and version 1 (not compressed) were written before, and still open. The cipher is named
by the data key, the data key by the sealed value, the KEK by the data key: each value
says how to open it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway import jsontext
from gateway.annex_xiii import ALL_SECTIONS, PUBLIC_POINT, points_of
from gateway.errors import GatewayError
from gateway.store import tables

#: Ciphers a data key may use, with their key lengths in bytes.
CIPHERS = {"aes-256-gcm": 32, "sm4-gcm": 16}
DEFAULT_CIPHER = "aes-256-gcm"
_VERSION = 1
#: The same form with the JSON text compressed by zlib and the preset dictionary
#: :data:`_DICTIONARY` before it is sealed. Written before :data:`_VERSION_ZSTD`; opens.
_VERSION_COMPRESSED = 2
#: The same form with the JSON text compressed by Zstandard (RFC 8878) and the dictionary
#: :data:`_DICTIONARY_2` before it is sealed, which bulk issuance pays for every record,
#: restricted credential and uploaded chunk. With the dictionary digested for its level,
#: Zstandard's level 4 compresses a 96-cell record (11 KB of JSON) to 2.9 KB in 56 µs,
#: as small as zlib's default level makes it in some 140 µs. Level 3 takes 30 µs, but a
#: passport then takes some 0.6 KB more in the database (its rows take more pages). The
#: level is the writer's choice: every level opens the same way.
_VERSION_ZSTD = 3
_VERSIONS = frozenset({_VERSION, _VERSION_COMPRESSED, _VERSION_ZSTD})
#: The preset dictionary of ``_VERSION_COMPRESSED``: the national record model's field
#: names (the last segment of each of ``gateway.records.paths.field_paths()``, sorted,
#: as a JSON array) as they stood when the version was made, so that even a record's
#: first field names are short. It never changes (another dictionary is another version).
_DICTIONARY = Path(__file__).with_name("seal-dictionary-1.json").read_bytes()
#: The dictionary of ``_VERSION_ZSTD``, one JSON array: the names of
#: ``seal-dictionary-1.json``, then the URLs of the eight JSON-LD contexts the gateway
#: shipped when the version was made (``vocab/contexts/index.json``), sorted, then every
#: term those contexts define that is not already there, sorted. The terms make a
#: restricted Data Integrity credential a fifth smaller than with the field names alone.
#: It never changes either.
_DICTIONARY_2 = Path(__file__).with_name("seal-dictionary-2.json").read_bytes()
_ZSTD_LEVEL = 4
#: The level of a JSON string, which is what a ``vc+jwt`` credential is: its base64url
#: text is left as small by level 1's quick search as by level 4's (a restricted
#: credential: 1,159 against 1,147 bytes, in 8.6 against 20.9 µs).
_ZSTD_TEXT_LEVEL = 1


def _digested(level: int) -> zstandard.ZstdCompressionDict:
    """:data:`_DICTIONARY_2` taken as raw content, the form zlib's preset dictionary has
    (no header, no trained entropy tables), digested once for ``level``. Frames carry
    their content size and no dictionary id or checksum (the AEAD tag authenticates
    them)."""
    dictionary = zstandard.ZstdCompressionDict(
        _DICTIONARY_2, dict_type=zstandard.DICT_TYPE_RAWCONTENT
    )
    dictionary.precompute_compress(level=level)
    return dictionary


_ZSTD_DICTIONARIES = {level: _digested(level) for level in (_ZSTD_LEVEL, _ZSTD_TEXT_LEVEL)}
#: The largest JSON text a thread's kept compression context compresses (a record, a
#: credential); longer ones (a bulk job's chunk) get a context of their own.
_KEPT_CONTEXT_BYTES = 256 * 1024
_NONCE = 12
_TAG = 16
_HEADER = 1 + 4 + _NONCE
# A KEK id: what ``gateway keys kek create`` writes; also a safe file name.
_KEK_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class KeyUnavailable(GatewayError):
    """A key-encryption key or data key needed to seal or open stored content is missing
    or wrong. Nothing was written; rows that do not need the key are unaffected."""

    status, slug, title = 503, "encryption-key-unavailable", "Encryption key unavailable"


class KeyEncryptionKeys(Protocol):
    """Where key-encryption keys live: the instance folder (:class:`FileKeks`) or an
    operator's KMS. Implementations never hand a KEK out, only wrap and unwrap."""

    def current(self) -> str:
        """The id of the KEK new data keys are wrapped with.

        :raises KeyUnavailable: there is none.
        """
        ...

    def wrap(self, kek_id: str, data_key: bytes) -> bytes:
        """Wrap a data key with a KEK.

        :raises KeyUnavailable: no such KEK.
        """
        ...

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """Unwrap a data key.

        :raises KeyUnavailable: no such KEK, or not the KEK that wrapped it.
        """
        ...


@dataclass(frozen=True)
class KekFile:
    """One KEK as the instance folder holds it.

    :ivar id: ``kek-<UTC time>-<random>``; ids sort by creation.
    :ivar created: when it was made (ISO 8601, UTC).
    :ivar cipher: the cipher of data keys made while it is the newest.
    """

    id: str
    created: str
    cipher: str


class FileKeks:
    """KEKs kept as files in one folder (``<instance>/keys/kek``), the newest current.

    Each file is JSON ``{id, created, cipher, key}`` with a 256-bit AES key, written
    with mode 0600. Data keys are wrapped with AES Key Wrap (RFC 3394), the wrapping
    KMSes use; an operator bound to SM4 for wrapping too plugs in a KMS that does it.

    :param folder: the folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keys: dict[str, bytes] = {}

    def create(self, cipher: str = DEFAULT_CIPHER) -> KekFile:
        """Make a new KEK, which becomes the current one.

        :param cipher: the cipher of data keys made under it (:data:`CIPHERS`).
        :returns: its description.
        :raises ValueError: an unknown cipher.
        """
        if cipher not in CIPHERS:
            raise ValueError(f"cipher must be one of {', '.join(CIPHERS)}")
        self.folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        kek = KekFile(
            id=f"kek-{now:%Y%m%dt%H%M%S%f}-{secrets.token_hex(3)}",
            created=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            cipher=cipher,
        )
        body = {**kek.__dict__, "key": base64.b64encode(os.urandom(32)).decode("ascii")}
        path = self.folder / f"{kek.id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out)
        return kek

    def listing(self) -> list[KekFile]:
        """Every KEK in the folder, oldest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("kek-*.json")):
            body = self._read(path)
            found.append(KekFile(body["id"], body["created"], body["cipher"]))
        return found

    def current(self) -> str:
        kept = self.listing()
        if not kept:
            raise KeyUnavailable(
                f"no key-encryption key in {self.folder}: run `gateway keys kek create`"
            )
        return kept[-1].id

    def cipher(self, kek_id: str) -> str:
        """The cipher of data keys made under a KEK."""
        return str(self._read(self._path(kek_id))["cipher"])

    def wrap(self, kek_id: str, data_key: bytes) -> bytes:
        return aes_key_wrap(self._key(kek_id), data_key)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._key(kek_id), wrapped)
        except InvalidUnwrap:
            raise KeyUnavailable(
                f"key-encryption key {kek_id} does not open its data keys: the file in "
                f"{self.folder} is not the key they were wrapped with"
            ) from None

    def _path(self, kek_id: str) -> Path:
        if not kek_id or not set(kek_id) <= _KEK_ID_CHARS:
            raise KeyUnavailable(f"not a key-encryption key id: {kek_id!r}")
        return self.folder / f"{kek_id}.json"

    def _key(self, kek_id: str) -> bytes:
        key = self._keys.get(kek_id)
        if key is None:
            key = base64.b64decode(self._read(self._path(kek_id))["key"])
            if len(key) != 32:
                raise KeyUnavailable(f"key-encryption key {kek_id} is not a 256-bit key")
            self._keys[kek_id] = key
        return key

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyUnavailable(
                f"key-encryption key {path.stem} is missing from {self.folder}: restore it "
                "from its backup"
            ) from None
        except (OSError, ValueError) as exc:
            raise KeyUnavailable(f"key-encryption key {path.stem} cannot be read: {exc}") from None
        return body


def _aead(cipher: str, key: bytes) -> tuple[Callable[..., bytes], Callable[..., bytes]]:
    """Seal and open functions ``(nonce, data, aad) -> bytes`` of a cipher."""
    if cipher == "aes-256-gcm":
        aes = AESGCM(key)
        return aes.encrypt, aes.decrypt

    # cryptography has no AEAD class for SM4, but its SM4 cipher takes the GCM mode:
    # the same construction as AES-GCM (RFC 8998 names it for TLS).
    def seal(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return enc.update(data) + enc.finalize() + enc.tag

    def open_(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        if len(data) < _TAG:
            raise InvalidTag()
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-_TAG:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(data[:-_TAG]) + dec.finalize()

    return seal, open_


@dataclass(frozen=True)
class _DataKey:
    id: int
    cipher: str
    seal: Callable[..., bytes]
    open: Callable[..., bytes]


def _compressor(level: int = _ZSTD_LEVEL) -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(
        level=level,
        dict_data=_ZSTD_DICTIONARIES[level],
        write_checksum=False,
        write_content_size=True,
        write_dict_id=False,
    )


def row_binding(table: str, row_id: object, tenant_id: int) -> bytes:
    """The associated data of a sealed value: which row of which tenant holds it.

    ``json``'s compact ASCII text of ``[table, row id, tenant id]``, which the sealed
    values were bound to; orjson writes the same bytes for ASCII text several times
    faster (it runs for every value sealed or opened), and ``json`` writes the rest.
    """
    items = [table, str(row_id), tenant_id]
    try:
        text = orjson.dumps(items)
    except TypeError:
        text = b""
    if text and text.isascii():
        return text
    return json.dumps(items, separators=(",", ":")).encode("utf-8")


def is_restricted(access_group: str) -> bool:
    """Whether a section's credentials are sealed at rest: every one carrying a point
    beyond the public one (BMS-derived values an approval released travel in them)."""
    return points_of(access_group) != {PUBLIC_POINT}


def production_batch(record: Mapping[str, Any]) -> str | None:
    """The record's production batch, which the store keeps in clear beside the sealed
    record (batch-scope access grants are matched on it; 64 characters at most)."""
    production = record.get("production")
    batch = production.get("batch") if isinstance(production, Mapping) else None
    return batch[:64] if isinstance(batch, str) else None


#: The period of a tenant's lasting data key, which seals what is kept as long as the
#: passport must exist (its credentials) and which retention never destroys; year keys
#: seal the records, which retention purges.
LASTING = 0

#: The sections whose credentials are sealed at rest.
RESTRICTED_SECTIONS = tuple(s for s in ALL_SECTIONS if is_restricted(s))


def credential_binding(passport_id: str, credential_id: str) -> dict[str, Any]:
    """The binding of a credential's sealed body: its passport (one tenant's) and its
    id, so a body moved to another credential or passport does not open."""
    return {"table": "credentials", "row_id": f"{passport_id} {credential_id}"}


class Sealer:
    """Seals and opens stored values with the tenants' data keys.

    One per database (``Session.info["sealer"]``); unwrapped data keys are kept in
    memory, so a value costs one AEAD operation and no key look-up after the first.

    :param keks: where the KEKs are.
    """

    def __init__(self, keks: KeyEncryptionKeys) -> None:
        self.keks = keks
        self._keys: dict[int, _DataKey] = {}
        self._current: dict[tuple[int, int], int] = {}
        # Compression contexts are not thread-safe; each thread of a worker keeps its own.
        self._contexts = threading.local()

    def seal(
        self,
        session: Session,
        value: Any,
        *,
        table: str,
        row_id: object,
        tenant_id: int,
        period: int | None = None,
    ) -> bytes:
        """Encrypt a JSON value for one row.

        :param session: the unit of work (a data key may be made in it).
        :param value: JSON data.
        :param period: the calendar year the row was stored in (default: this year),
            which picks the data key, so a year's key can be destroyed once all of the
            year's rows are due.
        :returns: the sealed bytes.
        :raises KeyUnavailable: no KEK to wrap a new data key with.
        """
        year = datetime.now(UTC).year if period is None else period
        key = self._key_for(session, tenant_id, year)
        nonce = os.urandom(_NONCE)
        header = bytes([_VERSION_ZSTD]) + key.id.to_bytes(4, "big") + nonce
        text = jsontext.dumps(value)
        # A kept context keeps the workspace of the largest value it compressed (some
        # 2.5 MB for a job's chunk): large values get a context of their own, freed after.
        level = _ZSTD_TEXT_LEVEL if isinstance(value, str) else _ZSTD_LEVEL
        compressor = (
            self._zstd()[0][level] if len(text) <= _KEPT_CONTEXT_BYTES else _compressor(level)
        )
        plain = compressor.compress(text)
        aad = header + row_binding(table, row_id, tenant_id)
        return header + key.seal(nonce, plain, aad)

    def open(
        self, session: Session, sealed: bytes, *, table: str, row_id: object, tenant_id: int
    ) -> Any:
        """Decrypt a value sealed for this row.

        :raises KeyUnavailable: its data key was destroyed or cannot be unwrapped, or the
            value was not sealed for this row.
        """
        if len(sealed) < _HEADER + _TAG or sealed[0] not in _VERSIONS:
            raise KeyUnavailable(f"{table} row {row_id}: not a sealed value")
        key = self._key(session, int.from_bytes(sealed[1:5], "big"))
        header, nonce = sealed[:_HEADER], sealed[5:_HEADER]
        try:
            plain = key.open(
                nonce, sealed[_HEADER:], header + row_binding(table, row_id, tenant_id)
            )
        except InvalidTag:
            raise KeyUnavailable(
                f"{table} row {row_id}: the sealed value does not open with data key "
                f"{key.id} for this row (moved from another row, or altered)"
            ) from None
        # Authenticated above: only what this gateway sealed is decompressed.
        if sealed[0] == _VERSION_ZSTD:
            plain = self._zstd()[1].decompress(plain)
        elif sealed[0] == _VERSION_COMPRESSED:
            decompressor = zlib.decompressobj(zdict=_DICTIONARY)
            plain = decompressor.decompress(plain) + decompressor.flush()
        return json.loads(plain)

    def _zstd(
        self,
    ) -> tuple[dict[int, zstandard.ZstdCompressor], zstandard.ZstdDecompressor]:
        """This thread's compression contexts, by level, and its decompression context."""
        contexts: tuple[dict[int, zstandard.ZstdCompressor], zstandard.ZstdDecompressor] | None = (
            getattr(self._contexts, "zstd", None)
        )
        if contexts is None:
            contexts = (
                {level: _compressor(level) for level in _ZSTD_DICTIONARIES},
                zstandard.ZstdDecompressor(dict_data=_ZSTD_DICTIONARIES[_ZSTD_LEVEL]),
            )
            self._contexts.zstd = contexts
        return contexts

    def forget(self, data_key_ids: set[int] | None = None) -> None:
        """Drop unwrapped keys from memory (after a purge destroyed them)."""
        if data_key_ids is None:
            self._keys.clear()
            self._current.clear()
            return
        for key_id in data_key_ids:
            self._keys.pop(key_id, None)
        self._current = {k: v for k, v in self._current.items() if v not in data_key_ids}

    def _key_for(self, session: Session, tenant_id: int, year: int) -> _DataKey:
        known = self._current.get((tenant_id, year))
        if known is not None:
            return self._key(session, known)
        query = select(tables.DataKey.id).where(
            tables.DataKey.tenant_id == tenant_id,
            tables.DataKey.period == year,
            tables.DataKey.destroyed_at.is_(None),
        )
        key_id = session.scalar(query)
        if key_id is None:
            kek_id = self._current_kek(session)
            cipher = getattr(self.keks, "cipher", lambda _id: DEFAULT_CIPHER)(kek_id)
            if cipher not in CIPHERS:
                raise KeyUnavailable(f"key-encryption key {kek_id} names unknown cipher {cipher}")
            row = tables.DataKey(
                tenant_id=tenant_id,
                period=year,
                cipher=cipher,
                kek_id=kek_id,
                wrapped=self.keks.wrap(kek_id, os.urandom(CIPHERS[cipher])),
            )
            try:
                # A savepoint: another process may make the same tenant's key first.
                with session.begin_nested():
                    session.add(row)
                key_id = row.id
            except IntegrityError:
                key_id = session.scalar(query)
                if key_id is None:
                    raise
        self._current[(tenant_id, year)] = key_id
        return self._key(session, key_id)

    def _current_kek(self, session: Session) -> str:
        try:
            return self.keks.current()
        except KeyUnavailable:
            # A store that has never sealed anything gets its first KEK made on the spot
            # (as ``gateway init`` would); once data keys exist, a missing KEK is an
            # error to report, never a reason to start over with a new one.
            create = getattr(self.keks, "create", None)
            if create is None or session.scalar(select(tables.DataKey.id).limit(1)):
                raise
            return str(create().id)

    def _key(self, session: Session, key_id: int) -> _DataKey:
        key = self._keys.get(key_id)
        if key is not None:
            return key
        row = session.get(tables.DataKey, key_id)
        if row is None or row.destroyed_at is not None or row.wrapped is None:
            raise KeyUnavailable(f"data key {key_id} was destroyed (retention purge)")
        raw = self.keks.unwrap(row.kek_id, row.wrapped)
        seal, open_ = _aead(row.cipher, raw)
        key = _DataKey(key_id, row.cipher, seal, open_)
        self._keys[key_id] = key
        return key


def sealer_of(session: Session) -> Sealer:
    """The sealer of the database a session belongs to.

    :raises KeyUnavailable: the database was opened without one.
    """
    sealer = session.info.get("sealer")
    if not isinstance(sealer, Sealer):
        raise KeyUnavailable("this database was opened without its key-encryption keys")
    return sealer


class DataKeys:
    """The data keys table, within one unit of work: counts, re-wrapping, sealing what
    was stored in clear.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_kek(self) -> dict[str, int]:
        """How many live data keys each KEK wraps."""
        rows = self.session.execute(
            select(tables.DataKey.kek_id, func.count())
            .where(tables.DataKey.destroyed_at.is_(None))
            .group_by(tables.DataKey.kek_id)
        )
        return {kek_id: int(n) for kek_id, n in rows}

    def rewrap(self, kek_id: str, limit: int) -> int:
        """Re-wrap up to ``limit`` live data keys wrapped by another KEK with ``kek_id``.

        :returns: how many were re-wrapped (0: none is left).
        :raises KeyUnavailable: a KEK that wrapped one is missing or wrong.
        """
        keks = sealer_of(self.session).keks
        rows = self.session.scalars(
            select(tables.DataKey)
            .where(tables.DataKey.destroyed_at.is_(None), tables.DataKey.kek_id != kek_id)
            .order_by(tables.DataKey.id)
            .limit(limit)
            .with_for_update()
        ).all()
        for row in rows:
            assert row.wrapped is not None  # live keys keep their wrapped form
            row.wrapped = keks.wrap(kek_id, keks.unwrap(row.kek_id, row.wrapped))
            row.kek_id = kek_id
        self.session.flush()
        return len(rows)

    def seal_clear_records(self, limit: int) -> int:
        """Seal up to ``limit`` passport records, then credentials beyond the public
        point, stored in clear (before encryption at rest), each under its tenant's key
        of the year it was stored.

        :returns: how many were sealed (0: none is left).
        """
        sealer = sealer_of(self.session)
        rows = self.session.scalars(
            select(tables.Passport)
            .where(tables.Passport.record_sealed.is_(None), tables.Passport.record.is_not(None))
            .order_by(tables.Passport.id)
            .limit(limit)
            .with_for_update()
        ).all()
        for row in rows:
            row.record_sealed = sealer.seal(
                self.session,
                row.record,
                table="passports",
                row_id=row.id,
                tenant_id=row.tenant_id,
                period=row.created_at.year,
            )
            row.production_batch = production_batch(row.record or {})
            row.record = None
        left = limit - len(rows)
        creds = self.session.execute(
            select(tables.Credential, tables.Passport.tenant_id)
            .join(tables.Passport, tables.Passport.id == tables.Credential.passport_id)
            .where(
                tables.Credential.body_sealed.is_(None),
                tables.Credential.body.is_not(None),
                tables.Credential.access_group.in_(RESTRICTED_SECTIONS),
            )
            .order_by(tables.Credential.id)
            .limit(max(left, 0))
            .with_for_update(of=tables.Credential)
        ).all()
        for cred, tenant_id in creds:
            cred.body_sealed = sealer.seal(
                self.session,
                cred.body,
                **credential_binding(cred.passport_id, cred.id),
                tenant_id=tenant_id,
                period=LASTING,
            )
            cred.body = None
        self.session.flush()
        return len(rows) + len(creds)

    def clear_records_left(self) -> int:
        """How many passport records, and credentials beyond the public point, are still
        stored in clear."""
        records = self.session.scalar(
            select(func.count())
            .select_from(tables.Passport)
            .where(tables.Passport.record_sealed.is_(None), tables.Passport.record.is_not(None))
        )
        credentials = self.session.scalar(
            select(func.count())
            .select_from(tables.Credential)
            .where(
                tables.Credential.body_sealed.is_(None),
                tables.Credential.body.is_not(None),
                tables.Credential.access_group.in_(RESTRICTED_SECTIONS),
            )
        )
        return int(records or 0) + int(credentials or 0)

    def destroy(self, tenant_id: int, periods: list[int]) -> int:
        """Destroy a tenant's data keys of these years (crypto-shredding); its lasting
        key (:data:`LASTING`) is never destroyed.

        :returns: how many were destroyed.
        """
        rows = self.session.scalars(
            select(tables.DataKey).where(
                tables.DataKey.tenant_id == tenant_id,
                tables.DataKey.period.in_([p for p in periods if p != LASTING]),
                tables.DataKey.destroyed_at.is_(None),
            )
        ).all()
        for row in rows:
            row.wrapped = None
            row.destroyed_at = tables.utcnow()
        self.session.flush()
        sealer_of(self.session).forget({row.id for row in rows})
        return len(rows)
