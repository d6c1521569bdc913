"""Instance-wide state in the database: version counters, shared secrets wrapped by the
key-encryption key, imported white-list listings, pinned DID documents and contexts."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine

from gateway.errors import Conflict, InvalidInput
from gateway.services.instance_state import web_session_secret
from gateway.services.keys_at_rest import rotate_kek
from gateway.settings import Settings
from gateway.store.contexts import PinnedContexts
from gateway.store.db import Database, instance_sealer, kek_folder
from gateway.store.did_documents import PinnedDidDocuments
from gateway.store.encryption import FileKeks, KeyUnavailable
from gateway.store.instance_secrets import WEB_SESSION, InstanceSecrets
from gateway.store.instance_state import (
    CONTEXTS,
    DID_DOCUMENTS,
    WHITELIST,
    raise_version,
    read_versions,
    state_version,
    state_versions,
)
from gateway.store.tables import InstanceSecret
from gateway.store.whitelist import COLUMNS, WhitelistListings
from tests.helpers import ROOT

MAKER = ROOT / "fixtures" / "examples" / "offline" / "issuer-did.json"
LISTING = {
    "licence_no": "MIIT-2024-X-07",
    "batch": 5,
    "announcement_no": "公告2024年第X号",
    "announced_on": dt.date(2024, 1, 17),
    "province": "江西",
    "name": "某某再生资源科技有限公司",
    "name_en": "",
    "type": "recycling",
    "status": "listed",
    "removed_on": None,
}


def test_versions_start_at_zero_and_rise_with_each_change(db: Database) -> None:
    with db.reading() as session:
        assert state_version(session, WHITELIST) == 0
    for expected in (1, 2, 3):
        with db.transaction() as session:
            raise_version(session, WHITELIST)
            assert state_version(session, WHITELIST) == expected
    with db.reading() as session:
        assert state_version(session, WHITELIST) == 3


def test_the_one_statement_reads_what_a_unit_of_work_reads(db: Database) -> None:
    names = (WHITELIST, CONTEXTS, DID_DOCUMENTS)
    assert read_versions(db) == {}
    for kind in (WHITELIST, CONTEXTS, WHITELIST):
        with db.transaction() as session:
            raise_version(session, kind)
        # Committed by another unit of work: seen by the next statement.
        probed = read_versions(db)
        assert probed is not None
        with db.reading() as session:
            assert {n: probed.get(n, 0) for n in names} == state_versions(session, names)
    assert read_versions(db) == {WHITELIST: 2, CONTEXTS: 1}


def test_the_one_statement_answers_none_when_the_driver_fails(tmp_path) -> None:
    """No table (a database not migrated): no answer, so the caller reads in a unit of
    work, whose error the gateway answers; the connection goes back to the pool."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        assert read_versions(SimpleNamespace(engine=engine)) is None  # type: ignore[arg-type]
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_a_rolled_back_change_leaves_the_version(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        raise_version(session, WHITELIST)
        raise RuntimeError("the change failed")
    with db.reading() as session:
        assert state_version(session, WHITELIST) == 0


def test_a_secret_is_kept_once_and_never_in_clear(db: Database) -> None:
    with db.transaction() as session:
        assert InstanceSecrets(session).keep(WEB_SESSION, "first-secret") == "first-secret"
    with db.transaction() as session:
        # Another instance offering its own gets the one the database holds.
        assert InstanceSecrets(session).keep(WEB_SESSION, "second-secret") == "first-secret"
    with db.reading() as session:
        row = session.get(InstanceSecret, WEB_SESSION)
        assert b"first-secret" not in row.wrapped
        assert InstanceSecrets(session).get("nothing-of-that-name") is None


def test_a_new_kek_rewraps_the_secret_and_a_missing_one_refuses(
    db: Database, settings: Settings
) -> None:
    with db.transaction() as session:
        InstanceSecrets(session).keep(WEB_SESSION, "s" * 64)
        first = session.get(InstanceSecret, WEB_SESSION).kek_id
    newer = FileKeks(kek_folder(settings)).create().id
    with db.transaction() as session:
        assert InstanceSecrets(session).get(WEB_SESSION) == "s" * 64
        assert session.get(InstanceSecret, WEB_SESSION).kek_id == newer != first
    # The older KEK can now be retired; without the current one the secret stays shut.
    (kek_folder(settings) / f"{first}.json").unlink()
    with db.reading() as session:
        assert InstanceSecrets(session).get(WEB_SESSION) == "s" * 64
    (kek_folder(settings) / f"{newer}.json").unlink()
    db.engine.dispose()
    fresh = Database.connect(settings.db_url, instance_sealer(settings))
    try:
        with pytest.raises(KeyUnavailable), fresh.reading() as session:
            InstanceSecrets(session).get(WEB_SESSION)
    finally:
        fresh.dispose()


def test_secrets_are_printable_text(db: Database) -> None:
    with pytest.raises(ValueError), db.transaction() as session:
        InstanceSecrets(session).keep(WEB_SESSION, " padded ")


def test_whitelist_listings_replace_by_licence_and_raise_the_version(db: Database) -> None:
    with db.transaction() as session:
        assert WhitelistListings(session).put([LISTING], actor="console") == 1
    with db.transaction() as session:
        listings = WhitelistListings(session)
        listings.put([{**LISTING, "type": "both"}], actor="console")
        assert listings.put([], actor="console") == 0
    with db.reading() as session:
        listings = WhitelistListings(session)
        assert listings.version() == 2
        assert listings.listings() == [{**LISTING, "type": "both"}]
        assert set(COLUMNS) == set(LISTING)


def test_pinned_did_documents_are_checked_audited_and_versioned(db: Database) -> None:
    data = MAKER.read_bytes()
    did = json.loads(data)["id"]
    with db.transaction() as session:
        entry = PinnedDidDocuments(session).add(data, own=(), actor="console")
    assert entry.did == did and entry.size == len(data.decode("utf-8-sig").encode())
    with db.transaction() as session, pytest.raises(Conflict):
        PinnedDidDocuments(session).add(data, own=(), actor="console")
    with db.transaction() as session, pytest.raises(Conflict):
        PinnedDidDocuments(session).add(
            json.dumps({"id": "did:web:gw.example"}).encode(),
            own=("did:web:gw.example",),
            actor="console",
        )
    for bad in (
        b"\xff\xfe",
        b'{"id": "did:web:a.example/../b"}',
        b'{"id": "did:web:a.example", "verificationMethod": {}}',
        json.dumps({"id": "did:web:" + "a" * 600}).encode(),
    ):
        with db.transaction() as session, pytest.raises(InvalidInput):
            PinnedDidDocuments(session).add(bad, own=(), actor="console")
    with db.reading() as session:
        pinned = PinnedDidDocuments(session)
        assert pinned.version() == 1
        assert list(pinned.documents()) == [did]
    with db.transaction() as session:
        PinnedDidDocuments(session).remove(did, actor="console")
    with db.reading() as session:
        assert PinnedDidDocuments(session).version() == 2
        assert PinnedDidDocuments(session).listing() == []


def test_pinned_contexts_are_versioned_and_read_with_the_did_documents_in_one_query(
    db: Database,
) -> None:
    url = "https://contexts.example/extra/v1"
    data = json.dumps({"@context": {"extra": "https://contexts.example/vocab#extra"}}).encode()
    with db.reading() as session:
        assert state_versions(session, (CONTEXTS, DID_DOCUMENTS)) == {
            CONTEXTS: 0,
            DID_DOCUMENTS: 0,
        }
    with db.transaction() as session:
        PinnedContexts(session).add(url, data, shipped={}, actor="console")
    with db.transaction() as session:
        PinnedDidDocuments(session).add(MAKER.read_bytes(), own=(), actor="console")
    with db.transaction() as session:
        PinnedContexts(session).remove(url, actor="console")
    with db.reading() as session:
        assert state_version(session, CONTEXTS) == 2
        assert state_versions(session, (CONTEXTS, DID_DOCUMENTS)) == {
            CONTEXTS: 2,
            DID_DOCUMENTS: 1,
        }


def test_a_kek_rotation_moves_the_secret_with_the_data_keys(
    db: Database, settings: Settings
) -> None:
    with db.transaction() as session:
        InstanceSecrets(session).keep(WEB_SESSION, "r" * 64)
        old = session.get(InstanceSecret, WEB_SESSION).kek_id
    new, _ = rotate_kek(settings, db, "aes-256-gcm")
    with db.reading() as session:
        assert session.get(InstanceSecret, WEB_SESSION).kek_id == new.id
    (kek_folder(settings) / f"{old}.json").unlink()
    fresh = Database.connect(settings.db_url, instance_sealer(settings))
    try:
        assert web_session_secret(fresh) == "r" * 64
    finally:
        fresh.dispose()


def test_without_its_kek_the_secret_is_neither_used_nor_replaced(
    db: Database, settings: Settings
) -> None:
    with db.transaction() as session:
        InstanceSecrets(session).keep(WEB_SESSION, "q" * 64)
        kek = session.get(InstanceSecret, WEB_SESSION).kek_id
    (kek_folder(settings) / f"{kek}.json").unlink()
    FileKeks(kek_folder(settings)).create()
    fresh = Database.connect(settings.db_url, instance_sealer(settings))
    try:
        # A key of this process signs its sessions; the database keeps the shared one.
        assert web_session_secret(fresh) != "q" * 64
        with fresh.reading() as session:
            assert session.get(InstanceSecret, WEB_SESSION).kek_id == kek
    finally:
        fresh.dispose()
