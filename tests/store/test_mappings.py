"""Mapping versions: drafts change, published versions never do; publishing is a race
with one winner."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.errors import Conflict, MappingNotFound
from gateway.store import AuditLog, MappingVersions
from gateway.store.db import Database
from gateway.store.tables import MappingVersion

SET = "cn-trace-to-eu-passport"
TSV = "subject_id\tpredicate_id\tobject_id\ncn:a\tskos:exactMatch\teu:b\n"


def test_draft_lifecycle(db: Database) -> None:
    with db.transaction() as s:
        repo = MappingVersions(s)
        draft = repo.create_draft(SET, "1.0.0", TSV)
        assert (draft.status, draft.published_at, draft.ref) == ("draft", None, f"{SET}@1.0.0")
        edited = repo.update_draft(SET, "1.0.0", TSV + "cn:c\tskos:closeMatch\teu:d\n", "h1")
        assert edited.content_hash == "h1" and edited.table.count("\n") == 3
        published = repo.publish(SET, "1.0.0", "h2")
    assert published.status == "published" and published.published_at is not None
    with db.reading() as s:
        repo = MappingVersions(s)
        assert repo.get(SET, "1.0.0") == published
        assert repo.latest_published(SET) == published
        assert repo.listing(SET, "draft") == []
        assert [e.action for e in AuditLog(s).entries()] == [
            "mapping.drafted",
            "mapping.edited",
            "mapping.published",
        ]
        with pytest.raises(MappingNotFound):
            repo.get(SET, "9.9.9")


def test_published_is_immutable(db: Database) -> None:
    with db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.0.0", TSV)
        MappingVersions(s).publish(SET, "1.0.0", "h")
    with pytest.raises(Conflict, match="published"), db.transaction() as s:
        MappingVersions(s).update_draft(SET, "1.0.0", "changed")
    with pytest.raises(Conflict, match="already published"), db.transaction() as s:
        MappingVersions(s).publish(SET, "1.0.0", "h")
    with pytest.raises(Conflict), db.transaction() as s:
        MappingVersions(s).delete_draft(SET, "1.0.0")
    with pytest.raises(Conflict), db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.0.0", TSV)
    # Through the ORM as well: the model refuses the change at flush.
    with pytest.raises(Conflict, match="cannot change"), db.transaction() as s:
        row = s.query(MappingVersion).filter_by(mapping_set=SET, version="1.0.0").one()
        row.table = "changed"
        s.flush()
    with pytest.raises(Conflict), db.transaction() as s:
        row = s.query(MappingVersion).filter_by(mapping_set=SET, version="1.0.0").one()
        s.delete(row)
        s.flush()
    with db.reading() as s:
        assert MappingVersions(s).get(SET, "1.0.0").table == TSV


def test_deprecate(db: Database) -> None:
    with db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.0.0", TSV)
        with pytest.raises(Conflict, match="only a published"):
            MappingVersions(s).deprecate(SET, "1.0.0")
        MappingVersions(s).publish(SET, "1.0.0", "h")
        assert MappingVersions(s).deprecate(SET, "1.0.0").status == "deprecated"
        assert MappingVersions(s).latest_published(SET) is None


def test_delete_draft(db: Database) -> None:
    with db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.0.0", TSV)
        MappingVersions(s).delete_draft(SET, "1.0.0")
        assert MappingVersions(s).listing() == []
        with pytest.raises(MappingNotFound):
            MappingVersions(s).delete_draft(SET, "1.0.0")


def _race(db: Database, jobs: list[tuple[str, str]]) -> list[object]:
    start = threading.Barrier(len(jobs))

    def publish(version: str, digest: str) -> object:
        start.wait()
        try:
            with db.transaction() as s:
                return MappingVersions(s).publish(SET, version, digest).version
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(len(jobs)) as pool:
        return [f.result() for f in [pool.submit(publish, *job) for job in jobs]]


def test_concurrent_publish_of_one_draft(db: Database) -> None:
    with db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.0.0", TSV)
    results = _race(db, [("1.0.0", "h-a"), ("1.0.0", "h-b")])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"]
    with db.reading() as s:
        assert MappingVersions(s).get(SET, "1.0.0").content_hash in ("h-a", "h-b")
        assert [e.action for e in AuditLog(s).entries()].count("mapping.published") == 1


def test_concurrent_publish_of_two_drafts_on_one_base(db: Database) -> None:
    """Two drafts derived from 1.0.0: the second to publish must rebase."""
    with db.transaction() as s:
        repo = MappingVersions(s)
        repo.create_draft(SET, "1.0.0", TSV)
        repo.publish(SET, "1.0.0", "h0")
        repo.create_draft(SET, "1.1.0", TSV, base_version="1.0.0")
        repo.create_draft(SET, "2.0.0", TSV, base_version="1.0.0")
    results = _race(db, [("1.1.0", "h1"), ("2.0.0", "h2")])
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    assert "rebase" in str(losers[0])
    with db.reading() as s:
        assert MappingVersions(s).latest_published(SET).version == winners[0]


def test_publish_waits_for_an_open_publish(db: Database) -> None:
    """A second publisher blocks until the first commits, then sees the conflict."""
    with db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.0.0", TSV)
    outcome: list[object] = []

    def second() -> None:
        try:
            with db.transaction() as s:
                outcome.append(MappingVersions(s).publish(SET, "1.0.0", "h2"))
        except Conflict as exc:
            outcome.append(exc)

    with db.transaction() as s:
        MappingVersions(s).publish(SET, "1.0.0", "h1")
        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the second publish did not wait for the first"
    other.join()
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)


def test_base_version_must_exist(db: Database) -> None:
    with pytest.raises(MappingNotFound), db.transaction() as s:
        MappingVersions(s).create_draft(SET, "1.1.0", TSV, base_version="1.0.0")
