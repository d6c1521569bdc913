"""The key-encryption keys of encryption at rest, as ``gateway keys kek`` and
``gateway keys encrypt-store`` use them (layout: ``gateway.store.encryption``).

Every step works in short batches, each its own unit of work, so a rotation or the
encryption of an existing store can be killed and run again: it goes on where it
stopped, and every row decrypts at every moment (a data key is wrapped by exactly one
KEK at a time, a record is either in clear or sealed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.settings import Settings
from gateway.store.db import Database, kek_folder
from gateway.store.encryption import CIPHERS, DEFAULT_CIPHER, DataKeys, FileKeks, KekFile
from gateway.store.instance_secrets import InstanceSecrets

__all__ = ["CIPHERS", "DEFAULT_CIPHER", "encrypt_store", "list_keks", "rewrap", "rotate_kek"]

#: Rows per unit of work while re-wrapping or sealing.
BATCH = 500


@dataclass(frozen=True)
class KekState:
    """A KEK with how many live data keys it wraps."""

    kek: KekFile
    current: bool
    data_keys: int

    def as_json(self) -> dict[str, Any]:
        return {**self.kek.__dict__, "current": self.current, "data_keys": self.data_keys}


def instance_keks(settings: Settings) -> FileKeks:
    """The instance's KEK files."""
    return FileKeks(kek_folder(settings))


def list_keks(settings: Settings, db: Database | None) -> list[KekState]:
    """Every KEK, oldest first; with a database, how many data keys each wraps.

    A KEK the database names but the folder lacks is listed too (``created`` empty):
    its data keys cannot be opened until the file is restored.
    """
    keks = instance_keks(settings).listing()
    counts: dict[str, int] = {}
    if db is not None:
        with db.reading() as session:
            counts = DataKeys(session).by_kek()
    current = keks[-1].id if keks else None
    known = {k.id for k in keks}
    missing = [KekFile(kek_id, "", "") for kek_id in sorted(set(counts) - known)]
    return [KekState(k, k.id == current, counts.get(k.id, 0)) for k in [*keks, *missing]]


def rewrap(db: Database, kek_id: str, progress: Callable[[int], None] | None = None) -> int:
    """Re-wrap every live data key with ``kek_id``, a batch per unit of work.

    :returns: how many were re-wrapped.
    :raises KeyUnavailable: a KEK that wraps some data key is missing or wrong (the keys
        re-wrapped so far stay re-wrapped; run again once the file is back).
    """
    # The secrets the instances share (the web session key) move with the data keys.
    with db.transaction() as session:
        InstanceSecrets(session).rewrap(kek_id)
    done = 0
    while True:
        with db.transaction() as session:
            n = DataKeys(session).rewrap(kek_id, BATCH)
        if not n:
            return done
        done += n
        if progress is not None:
            progress(done)


def rotate_kek(settings: Settings, db: Database, cipher: str) -> tuple[KekFile, int]:
    """Make a new KEK current and re-wrap every data key with it.

    The earlier KEK files stay: remove one only after ``gateway keys kek list`` shows it
    wraps nothing (and keep its backup until the backups of the database from before the
    rotation have expired).

    :returns: the new KEK and how many data keys were re-wrapped.
    """
    kek = instance_keks(settings).create(cipher)
    return kek, rewrap(db, kek.id)


def encrypt_store(
    db: Database, batch: int = BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Seal every passport record (and credential beyond the public point) still stored
    in clear (a store from before encryption at rest), a batch per unit of work; resumes
    where a killed run stopped. On SQLite the file is then compacted, so that no freed
    page keeps the clear bytes.

    :returns: how many records were sealed.
    """
    done = 0
    while True:
        with db.transaction() as session:
            n = DataKeys(session).seal_clear_records(batch)
        if not n:
            if done:
                # The clear bytes linger in SQLite's free pages until the file is rewritten.
                db.compact()
            return done
        done += n
        if progress is not None:
            progress(done)


def clear_records_left(db: Database) -> int:
    """How many passport records are still stored in clear."""
    with db.reading() as session:
        return DataKeys(session).clear_records_left()
