"""A gateway instance: settings, database, signing key, status lists."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from threading import Lock
from types import MappingProxyType
from typing import Any, NamedTuple

from gateway.credentials.did import Resolver
from gateway.credentials.keys import KeyStore, SigningKey
from gateway.credentials.status_list import (
    StatusListStore,
    StatusRegistry,
    StatusSource,
    documents_source,
)
from gateway.errors import (
    NotFound,
    SigningKeyError,
    StatusListError,
)
from gateway.mapping.model import MappingSet
from gateway.services.instance_state import (
    rewrap_shared_secrets,
    take_over_instance_files,
    web_session_secret,
)
from gateway.settings import Settings
from gateway.store import Database, Passports, init_db
from gateway.store.contexts import PinnedContexts
from gateway.store.db import head_revision, instance_sealer, kek_folder
from gateway.store.did_documents import PinnedDidDocuments
from gateway.store.encryption import FileKeks
from gateway.store.instance_state import (
    CONTEXTS,
    DID_DOCUMENTS,
    STATUS_LISTS,
    read_versions,
    state_versions,
    versions_of,
)
from gateway.store.passports import StoredPassport
from gateway.store.status_adapter import DatabaseStatusListStore

#: Where the service's status lists live; the API serves each at this URL.
STATUS_LIST_URL = "{base}/status-lists/{purpose}-{n}"
#: Status entries reserved by the first unit of work of a bulk conversion; each further
#: one reserves twice as many, up to :data:`BULK_STATUS_MOST`.
BULK_STATUS_CHUNK = 64
#: The most entries a bulk conversion reserves at once. Each reservation loads and saves
#: both status lists (their bitstrings decoded and encoded again), so a long batch
#: reserves many at a time; a short one wastes few (unused bits nobody points at).
BULK_STATUS_MOST = 1024


class VerifierSources(NamedTuple):
    """What a verification judges by besides the trust lists, as read for it."""

    #: The pinned contexts, parsed, by URL.
    contexts: Mapping[str, Mapping[str, Any]]
    resolver: Resolver
    #: The status lists' instance-wide counter (see
    #: :class:`gateway.credentials.status_list.StatusListCache`).
    status_state: int


@dataclass
class Instance:
    """A running gateway: its settings, database, signing key and verifier sources.

    :ivar settings: resolved settings.
    :ivar db: the migrated database.
    :ivar keys: the key store.
    :ivar key: the active signing key.
    :ivar own_documents: the gateway's own DID documents (passport and VC API DIDs), made
        from its keys.
    """

    settings: Settings
    db: Database
    keys: KeyStore
    key: SigningKey
    own_documents: Mapping[str, Mapping[str, Any]]
    _mappings: dict[str, MappingSet] = field(default_factory=dict, repr=False)
    _resolver: tuple[int, Resolver] | None = field(default=None, repr=False)
    _sources_lock: Lock = field(default_factory=Lock, repr=False)
    _contexts: tuple[int, Mapping[str, Mapping[str, Any]]] | None = field(default=None, repr=False)

    @property
    def resolver(self) -> Resolver:
        """DID resolver over the instance's own DID documents and those pinned in the
        database, checked against the pinned documents' version: a document pinned or
        unpinned through any instance is used by the next verification here. A new set
        gives a new resolver, so nothing resolved from the old set is remembered."""
        with self.db.reading() as session:
            return self._resolver_at(lambda: session, PinnedDidDocuments(session).version())

    def verifier_sources(self, session: Callable[[], Any]) -> VerifierSources:
        """The pinned contexts (parsed, by URL), the DID resolver and the status lists'
        counter for a verification: a context or DID document pinned or unpinned through
        any instance is used by the next verification here.

        The versions are read by one statement outside any unit of work; ``session``
        (the verification's read unit of work, opened on first call) is asked only for
        what changed since this process last read it.
        """
        names = (CONTEXTS, DID_DOCUMENTS, STATUS_LISTS)
        probed = read_versions(self.db)
        versions = (
            versions_of(probed, names) if probed is not None else state_versions(session(), names)
        )
        current = self._contexts
        if current is None or current[0] != versions[CONTEXTS]:
            current = (versions[CONTEXTS], MappingProxyType(PinnedContexts(session()).documents()))
            with self._sources_lock:
                self._contexts = current
        return VerifierSources(
            current[1], self._resolver_at(session, versions[DID_DOCUMENTS]), versions[STATUS_LISTS]
        )

    def _resolver_at(self, session: Callable[[], Any], version: int) -> Resolver:
        current = self._resolver
        if current is not None and current[0] == version:
            return current[1]
        documents = {**PinnedDidDocuments(session()).documents(), **self.own_documents}
        resolver = Resolver(documents=documents, allow_network=self.settings.allow_network)
        with self._sources_lock:
            self._resolver = (version, resolver)
        return resolver

    @property
    def base_url(self) -> str:
        return self.settings.base_url.rstrip("/")

    def passport_id(self, code: str) -> str:
        """The passport URL of a battery code (DESIGN §5 Identifiers).

        :raises NotFound: a code with a control or invisible character, which no passport
            has (and PostgreSQL cannot even compare: it refuses NUL in text).
        """
        if not code.isprintable():
            raise NotFound(
                "no passport for a battery code with unprintable characters", pointer="code"
            )
        return f"{self.base_url}/passports/{code}"

    def passport(self, session: Any, code: str, tenant_id: int | None = None) -> StoredPassport:
        """The stored passport of a battery code, read in an open session.

        :param tenant_id: only among this tenant's passports (``None``: any tenant's).
        :raises NotFound: there is none (another tenant's answers the same).
        """
        try:
            return Passports(session).get(self.passport_id(code), tenant_id)
        except NotFound:
            raise NotFound(f"no passport for battery code {code!r}", pointer="code") from None

    def mapping(self, ref: str) -> MappingSet:
        """A published mapping version; published versions never change, so kept once read.

        :raises MappingNotFound: no such published version.
        """
        table = self._mappings.get(ref)
        if table is None:
            from gateway.services.mappings import resolve_mapping

            table = resolve_mapping(ref, lambda: self.db)
            self._mappings[ref] = table
        return table


def prepare_instance(settings: Settings) -> list[str]:
    """Make an instance ready to serve: its folder, a signing key, the database schema.

    Safe to run again; nothing that exists is overwritten.

    :param settings: resolved settings.
    :returns: what was done, one line each.
    """
    done = []
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(exist_ok=True)
    keys = KeyStore.from_settings(settings)
    if not keys.records():
        done.append(f"signing key created: {keys.generate(method='web').kid}")
    vc_api = KeyStore.vc_api(settings)
    if not vc_api.records():
        # The generic VC API issue route signs with a key and DID of its own (DESIGN §5).
        done.append(f"VC API signing key created: {vc_api.generate(method='web').kid}")
    keks = FileKeks(kek_folder(settings))
    if not keks.listing():
        # Stored records are sealed under it (docs/operations.md, Keys); back it up apart
        # from the database.
        done.append(f"key-encryption key created: {keks.create().id}")
    db = init_db(settings)
    try:
        done.append(f"database at revision {db.current_revision()}: {db.url}")
        done.extend(take_over_instance_files(settings, db))
        # Made once per database; every instance signs page sessions with it.
        web_session_secret(db)
    finally:
        db.dispose()
    return done


def signing_key(settings: Settings) -> SigningKey:
    """The instance's active passport signing key.

    :raises SigningKeyError: the instance has no signing key (run ``gateway init``).
    """
    try:
        return KeyStore.from_settings(settings).signing_key()
    except SigningKeyError as exc:
        raise SigningKeyError(
            f"{exc.detail}. Prepare the instance {settings.home} with `gateway init` first."
        ) from exc


def connect_store(settings: Settings, *, migrate: bool = True) -> Database:
    """The instance's database, for a console command (the caller disposes of it).

    :param migrate: bring the schema up to date first (``False``: connect only, for
        commands that must not create or change it).
    :raises ConfigError: an unsupported database URL.
    """
    if not migrate:
        return Database.connect(settings.db_url, instance_sealer(settings))
    db = init_db(settings)
    try:
        take_over_instance_files(settings, db)
        rewrap_shared_secrets(db)
    except BaseException:
        db.dispose()
        raise
    return db


@contextmanager
def open_store(settings: Settings, *, migrate: bool = True) -> Iterator[Database]:
    """:func:`connect_store`, disposed of when the block ends."""
    db = connect_store(settings, migrate=migrate)
    try:
        yield db
    finally:
        db.dispose()


def schema_revisions(
    settings: Settings, upgrade_to: str | None = None
) -> tuple[str, str | None, str | None]:
    """The database's schema revision, after an upgrade to ``upgrade_to`` if given.

    :returns: ``(database URL, its revision or None when empty, newest available)``.
    """
    with open_store(settings, migrate=False) as db:
        if upgrade_to is not None:
            db.upgrade(upgrade_to)
        return str(db.url), db.current_revision(), head_revision()


def open_instance(settings: Settings) -> Instance:
    """Open a prepared instance: bring its database schema up to date and load its key.

    :param settings: resolved settings.
    :returns: the instance.
    :raises SigningKeyError: the instance has no signing key (run ``gateway init``).
    :raises ConfigError: an unsupported database URL.
    """
    keys = KeyStore.from_settings(settings)
    key = signing_key(settings)
    db = connect_store(settings)
    return Instance(settings, db, keys, key, own_did_documents(settings))


def own_did_documents(settings: Settings) -> dict[str, Mapping[str, Any]]:
    """The gateway's own did:web documents (passport and VC API DIDs), made from the keys
    deployed with the instance rather than read from its folder."""
    return {
        store.did: store.did_document()
        for store in (KeyStore.from_settings(settings), KeyStore.vc_api(settings))
        if store.records()
    }


def status_registry(instance: Instance, store: StatusListStore) -> StatusRegistry:
    """The status registry of the instance.

    :param store: where its lists are, for the service a
        :class:`~gateway.store.status_adapter.DatabaseStatusListStore` of one unit of work.
    """
    return StatusRegistry(
        store,
        base_url=instance.base_url,
        issuer=instance.key.issuer,
        list_url=STATUS_LIST_URL,
    )


class StatusPool:
    """Status entries reserved ahead, ``chunk`` credentials' worth per short unit of work.

    Passed to :func:`sign_passport` as its registry: signing then happens outside any
    database transaction, and a bulk conversion takes the status lists' lock once per
    chunk instead of once per record. Entries reserved but never used (a refused record,
    a crash) stay unset bits nobody points at.

    :param instance: the instance.
    :param chunk: credentials reserved by the first unit of work.
    :param most: credentials reserved by one unit of work at most: each reserves twice
        what the one before did, up to this (default: ``chunk``, a fixed size).
    """

    def __init__(self, instance: Instance, chunk: int = 1, most: int | None = None) -> None:
        self.instance = instance
        self.chunk = chunk
        self.most = max(chunk, most or chunk)
        self._entries: deque[list[dict[str, str]]] = deque()

    def allocate(
        self, purposes: Sequence[str] = ("revocation", "suspension"), count: int = 1
    ) -> list[list[dict[str, str]]]:
        """Entries for ``count`` credentials, one per purpose each (see
        :meth:`StatusRegistry.allocate`)."""
        if tuple(purposes) != ("revocation", "suspension"):
            raise StatusListError("the pool reserves revocation and suspension entries only")
        missing = count - len(self._entries)
        if missing > 0:
            with self.instance.db.transaction() as session:
                registry = status_registry(self.instance, DatabaseStatusListStore(session))
                self._entries.extend(registry.allocate(count=max(missing, self.chunk)))
            self.chunk = min(self.chunk * 2, self.most)
        return [self._entries.popleft() for _ in range(count)]


@contextmanager
def local_status_source(settings: Settings) -> Iterator[StatusSource]:
    """The instance's own status lists, for an offline verifier (``gateway verify``).

    :param settings: resolved settings; an instance without a database has no lists.
    :returns: a context manager yielding the source, open for the duration.
    """
    if not settings.has_store:
        yield documents_source(())
        return
    db = init_db(settings)
    try:
        with db.reading() as session:
            registry = StatusRegistry(
                DatabaseStatusListStore(session, lock=False),
                base_url=settings.base_url,
                issuer="",
                list_url=STATUS_LIST_URL,
            )
            yield registry.source()
    finally:
        db.dispose()
