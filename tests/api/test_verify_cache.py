"""Verification that caches right: decoded status lists and resolved keys are kept per
process, yet a revocation written by any instance sharing the database is seen by the
very next verification on every instance; and no cache grows without bound."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event

from gateway.credentials import verify as verify_module
from gateway.credentials.did import Resolver
from gateway.credentials.multikey import did_key_verification_method
from gateway.credentials.status_list import (
    FetchedList,
    StatusList,
    StatusListCache,
    cached_source,
)
from gateway.services import instance as instance_module
from gateway.store import StatusLists
from gateway.store.instance_state import STATUS_LISTS, state_version
from tests.helpers import RECORDS, assert_problem, issue_keys, make_app

NCM = "Z9ZPEN8K52S96AE740000319"


def _verify(app, credential) -> tuple[int, set[str]]:
    response = app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": credential}
    )
    failed = {c["id"] for c in response.json["checks"] if not c["ok"]}
    return response.status_code, failed


def _issue_public(app, keys) -> str:
    """Issue the NCM pack as vc+jwt; its public credential."""
    created = app.test_client().post(
        "/passports?format=jwt",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201, created.json
    return created.json["credentials"]["annex-xiii-1"]


def test_a_status_change_is_seen_on_the_next_request_of_every_instance(
    tmp_path: Path, backend_url: str
) -> None:
    home = tmp_path / "instance"
    first = make_app(home, backend_url)
    second = make_app(home, backend_url)  # another instance on the same database
    try:
        keys = issue_keys(first.extensions["gateway.settings"])
        public = _issue_public(first, keys)
        # Both instances verify (and keep the lists decoded) before anything changes.
        for app in (first, second, first, second):
            assert _verify(app, public) == (200, set())

        def change(app, action: str) -> None:
            done = app.test_client().post(f"/passports/{NCM}/{action}", headers=keys["exporter"])
            assert done.status_code == 200, done.json

        change(first, "suspend")
        for app in (second, first):
            status, failed = _verify(app, public)
            assert status == 400 and failed == {"status.suspension"}
        change(second, "unsuspend")
        for app in (first, second):
            assert _verify(app, public) == (200, set())
        change(first, "revoke")
        for app in (second, first):
            status, failed = _verify(app, public)
            assert status == 400 and failed == {"status.revocation", "status.suspension"}
    finally:
        first.extensions["gateway.instance"].db.dispose()
        second.extensions["gateway.instance"].db.dispose()


def test_every_change_of_the_bits_raises_the_version(tmp_path: Path, backend_url: str) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    db = app.extensions["gateway.instance"].db
    try:
        with db.transaction() as session:
            StatusLists(session).create(
                "https://gw.example/status-lists/test-1", "revocation", "did:x"
            )
        with db.reading() as session:
            before = StatusLists(session).version("https://gw.example/status-lists/test-1")
            assert StatusLists(session).version("https://gw.example/status-lists/none") is None
        with db.transaction() as session:
            StatusLists(session).set_bit("https://gw.example/status-lists/test-1", 7)
        with db.transaction() as session:  # the same bit again changes nothing
            StatusLists(session).set_bit("https://gw.example/status-lists/test-1", 7)
        with db.transaction() as session:  # nor does handing out an index
            StatusLists(session).allocate("https://gw.example/status-lists/test-1")
        with db.reading() as session:
            after = StatusLists(session).version("https://gw.example/status-lists/test-1")
            state = state_version(session, STATUS_LISTS)
        assert before is not None and after == before + 1
        # The instance-wide counter moves with it, and only then.
        assert state == 1
    finally:
        db.dispose()


def test_the_source_loads_a_list_once_per_version() -> None:
    listed = StatusList.new("https://gw.example/status-lists/revocation-1", "revocation", "did:x")
    version = {"now": 3}
    loads: list[str] = []

    def load(url: str) -> tuple[StatusList, int] | None:
        loads.append(url)
        return listed, version["now"]

    source = cached_source(lambda url: version["now"], load, StatusListCache())
    first = source(listed.url)
    assert isinstance(first, FetchedList) and first.local and first.bits == bytes(listed.bits)
    assert source(listed.url) is first and len(loads) == 1
    listed.bits[0] = 0x80
    version["now"] = 4
    again = source(listed.url)
    assert again is not first and again.bits is not None and again.bits[0] == 0x80
    assert len(loads) == 2
    # An unknown list is not loaded at all.
    assert cached_source(lambda url: None, load, StatusListCache())("https://other") is None
    assert len(loads) == 2


def test_the_source_asks_no_list_while_the_state_stands() -> None:
    listed = StatusList.new("https://gw.example/status-lists/revocation-1", "revocation", "did:x")
    version = {"now": 3}
    asked: list[str] = []
    loads: list[str] = []

    def version_of(url: str) -> int:
        asked.append(url)
        return version["now"]

    def load(url: str) -> tuple[StatusList, int] | None:
        loads.append(url)
        return listed, version["now"]

    cache = StatusListCache()
    first = cached_source(version_of, load, cache, 7)(listed.url)
    assert (len(asked), len(loads)) == (1, 1)
    # The state stands: the list is neither asked nor loaded.
    assert cached_source(version_of, load, cache, 7)(listed.url) is first
    assert (len(asked), len(loads)) == (1, 1)
    # The state moved (another list changed): this list is asked, not loaded again.
    assert cached_source(version_of, load, cache, 8)(listed.url) is first
    assert (len(asked), len(loads)) == (2, 1)
    assert cached_source(version_of, load, cache, 8)(listed.url) is first
    assert (len(asked), len(loads)) == (2, 1)
    # The state moved with this list: loaded again.
    listed.bits[0] = 0x80
    version["now"] = 4
    again = cached_source(version_of, load, cache, 9)(listed.url)
    assert again is not first and again.bits is not None and again.bits[0] == 0x80
    assert (len(asked), len(loads)) == (3, 2)
    # Without a state every use asks.
    assert cached_source(version_of, load, cache)(listed.url) is again
    assert (len(asked), len(loads)) == (4, 2)


class _TracedConnection:
    """A pooled DBAPI connection whose cursors record what they execute."""

    def __init__(self, connection, executed: list[str]) -> None:
        self._connection, self._executed = connection, executed

    def cursor(self):
        cursor = self._connection.cursor()
        executed = self._executed

        class Traced:
            def execute(self, statement, *args):
                executed.append(statement)
                return cursor.execute(statement, *args)

            def __getattr__(self, name):
                return getattr(cursor, name)

        return Traced()

    def __getattr__(self, name):
        return getattr(self._connection, name)


def test_a_verification_reads_one_row_while_nothing_changes(
    tmp_path: Path, backend_url: str, monkeypatch
) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    db = app.extensions["gateway.instance"].db
    try:
        public = _issue_public(app, issue_keys(app.extensions["gateway.settings"]))
        assert _verify(app, public) == (200, set())
        statements: list[str] = []

        def seen(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        raw: list[str] = []
        connect = db.engine.raw_connection
        monkeypatch.setattr(db.engine, "raw_connection", lambda: _TracedConnection(connect(), raw))
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert _verify(app, public) == (200, set())
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
            monkeypatch.undo()
        # The versions of the instance's state, in one statement outside any unit of
        # work; no status list is asked, no unit of work begins.
        assert statements == []
        assert len(raw) == 1 and raw[0].lstrip().upper().startswith("SELECT"), raw
        assert "instance_state" in raw[0]
    finally:
        db.dispose()


def test_without_the_one_statement_a_unit_of_work_reads_the_versions(
    tmp_path: Path, backend_url: str, monkeypatch
) -> None:
    """When the driver fails the statement outside a unit of work, verification reads
    the versions in one, and a status change is still seen on the next request."""
    monkeypatch.setattr(instance_module, "read_versions", lambda db: None)
    app = make_app(tmp_path / "instance", backend_url)
    db = app.extensions["gateway.instance"].db
    try:
        keys = issue_keys(app.extensions["gateway.settings"])
        public = _issue_public(app, keys)
        assert _verify(app, public) == (200, set())
        statements: list[str] = []

        def seen(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert _verify(app, public) == (200, set())
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert any("instance_state" in s for s in statements), statements
        done = app.test_client().post(f"/passports/{NCM}/suspend", headers=keys["exporter"])
        assert done.status_code == 200, done.json
        status, failed = _verify(app, public)
        assert status == 400 and failed == {"status.suspension"}
    finally:
        db.dispose()


def test_the_caches_are_bounded(monkeypatch) -> None:
    cache = StatusListCache(size=3)
    fetched = FetchedList({}, local=True)
    for n in range(10):
        cache.put(f"https://gw.example/status-lists/revocation-{n}", 0, fetched)
    assert len(cache) == 3
    assert cache.get("https://gw.example/status-lists/revocation-0", 0) is None
    assert cache.get("https://gw.example/status-lists/revocation-9", 0) is fetched
    assert cache.get("https://gw.example/status-lists/revocation-9", 1) is None

    monkeypatch.setattr(verify_module, "CACHED_METHODS", 4)
    inner = Resolver()
    resolver = verify_module.remembering(inner)
    references = [
        did_key_verification_method(Ed25519PrivateKey.generate().public_key()) for _ in range(10)
    ]
    for reference in references:
        assert resolver.resolve(reference).id == reference
    kept = verify_module._METHODS[inner]
    assert len(kept) == 4
    assert [r for r, _ in kept] == references[-4:]
    # A failed resolution is not kept.
    try:
        resolver.resolve("did:web:unknown.example#key-1")
    except Exception:  # noqa: BLE001  (any refusal will do here)
        pass
    assert len(kept) == 4 and all(not r.startswith("did:web") for r, _ in kept)


def test_a_hostile_body_is_not_repeated_back(api, keys) -> None:
    problem = assert_problem(
        api.post("/credentials/verify", json={"verifiableCredential": "x" * 50_000}), 422
    )
    assert "x" * 100 not in json.dumps(problem)
    assert problem["pointer"] == "/verifiableCredential"
