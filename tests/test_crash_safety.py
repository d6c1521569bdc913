"""Crash safety of bulk conversion, against a real ``gateway serve`` (gunicorn) process.

A ``POST /passports/batch`` stream is cut by ``kill -9`` of the whole server (master and
workers) after some outcome lines have arrived. The database must then hold every record
whole (passport, one credential per Annex XIII point, its audit event) or not at all;
after a restart the same request with the same ``Idempotency-Key`` finishes, storing each record
exactly once (docs/api.md, Bulk; DESIGN §5 Errors: nothing is half-written).

Runs on SQLite, and on PostgreSQL when ``DATABASE_URL_TEST`` is set (a schema of its own,
dropped afterwards). Every wait is bounded; the server is killed in a ``finally``.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.annex_xiii import SECTIONS
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import AuditLog, Passports, init_db, tables
from tests.helpers import issue_secrets
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "fixtures" / "records" / "ncm-ev-pack.json"
BASE_URL = "https://gw.example"
RECORDS = 240
KILL_AFTER = 12  # outcome lines read before the server is killed
GROUPS = set(SECTIONS)  # the template fills all four Annex XIII points
READ_TIMEOUT = 120.0

pytestmark = pytest.mark.slow


def record_lines(count: int) -> list[bytes]:
    """``count`` valid records: the fixture with serial digits (GB/T 34014 positions
    18-24) varied and positions 1-17 kept."""
    text = json.dumps(json.loads(TEMPLATE.read_text(encoding="utf-8")), ensure_ascii=False)
    code = json.loads(text)["battery"]["code"]
    assert len(code) == 24
    return [
        text.replace(code, f"{code[:17]}{n:07d}").encode("utf-8") + b"\n"
        for n in range(1, count + 1)
    ]


def open_batch(
    port: int, secret: str, lines: list[bytes], key: str
) -> tuple[socket.socket, http.client.HTTPResponse]:
    """POST the lines as a chunked NDJSON stream, sent from a thread of its own so the
    outcome lines, which stream back before the request ends, can be read meanwhile.

    :returns: the connection's socket (close it when done) and the answer.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=READ_TIMEOUT)
    conn.putrequest("POST", "/passports/batch?format=di")
    conn.putheader("Authorization", f"Bearer {secret}")
    conn.putheader("Content-Type", "application/x-ndjson")
    conn.putheader("Idempotency-Key", key)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    # The body goes straight to this socket: http.client drops its socket once a
    # "Connection: close" answer begins, and its send() would then open a new one.
    sock = conn.sock

    def send() -> None:
        try:
            for line in lines:
                sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server was killed while the body was going out
            pass

    threading.Thread(target=send, daemon=True).start()
    response = conn.getresponse()
    assert response.status == 200, response.read()[:2000]
    return sock, response


def read_outcomes(response: http.client.HTTPResponse, limit: int | None = None) -> list[dict]:
    """Outcome lines until the answer ends, or until ``limit`` of them have arrived."""
    outcomes: list[dict] = []
    while limit is None or len(outcomes) < limit:
        line = response.readline()
        if not line:
            break
        outcomes.append(json.loads(line))
    return outcomes


def stored_state(settings: Settings) -> dict[str, list[str]]:
    """Battery code -> passport ids, after checking that every stored passport is whole
    and nothing stored points at a passport that is not there."""
    db = init_db(settings)
    try:
        with db.reading() as session:
            passports = Passports(session)
            audit = AuditLog(session)
            by_code: dict[str, list[str]] = {}
            after = None
            while True:
                page = passports.listing(None, after=after, limit=1000)
                for passport in page:
                    creds = passports.credentials(passport.id)
                    assert {c.access_group for c in creds} == GROUPS, passport.id
                    assert len(creds) == len(GROUPS) and {c.format for c in creds} == {"di"}
                    issued = [
                        e
                        for e in audit.entries(subject=passport.id)
                        if e.action == "passport.issued"
                    ]
                    assert len(issued) == 1, passport.id
                    by_code.setdefault(passport.battery_code, []).append(passport.id)
                if len(page) < 1000:
                    break
                after = page[-1].id
            orphans = session.scalar(
                select(func.count())
                .select_from(tables.Credential)
                .where(tables.Credential.passport_id.not_in(select(tables.Passport.id)))
            )
            assert orphans == 0
            orphan_events = session.scalar(
                select(func.count())
                .select_from(tables.AuditEvent)
                .where(
                    tables.AuditEvent.action == "passport.issued",
                    tables.AuditEvent.subject.not_in(select(tables.Passport.id)),
                )
            )
            assert orphan_events == 0
            assert audit.verify() is None
    finally:
        db.dispose()
    return by_code


def test_kill_9_mid_batch_leaves_whole_records_and_a_retry_finishes(
    tmp_path: Path, backend_url: str
) -> None:
    settings = Settings.load(
        {"home": tmp_path / "instance", "database_url": backend_url, "base_url": BASE_URL}
    )
    prepare_instance(settings)
    secret = issue_secrets(settings, {"acme": ("exporter",)})["acme"]["exporter"]
    lines = record_lines(RECORDS)
    codes = {json.loads(line)["battery"]["code"] for line in lines}
    key = f"crash-{uuid.uuid4().hex}"
    log = tmp_path / "server.log"

    server = LiveServer(
        settings.home,
        log,
        "--workers",
        "2",
        base_url=settings.base_url,
        database_url=settings.database_url,
    )
    try:
        sock, response = open_batch(server.port, secret, lines, key)
        first = read_outcomes(response, limit=KILL_AFTER)
        server.kill()
        response.close()
        sock.close()
    finally:
        server.kill()
    assert len(first) == KILL_AFTER
    assert {o["outcome"] for o in first} == {"created"}, first

    stored = stored_state(settings)
    # An outcome line is written only after its record was committed.
    assert {o["batteryCode"] for o in first} <= set(stored)
    assert len(stored) < RECORDS, "the kill came after the whole batch; nothing was cut"
    assert all(len(ids) == 1 for ids in stored.values())

    server = LiveServer(
        settings.home,
        log,
        "--workers",
        "2",
        base_url=settings.base_url,
        database_url=settings.database_url,
    )
    try:
        sock, response = open_batch(server.port, secret, lines, key)
        again = read_outcomes(response)
        response.close()
        sock.close()
    finally:
        server.kill()
    assert [o["line"] for o in again] == list(range(1, RECORDS + 1))
    outcomes = {o["batteryCode"]: o["outcome"] for o in again}
    assert set(outcomes) == codes
    assert {c for c, o in outcomes.items() if o == "repeated"} == set(stored)
    assert {c for c, o in outcomes.items() if o == "created"} == codes - set(stored)
    assert all(set(o["credentials"]) == GROUPS for o in again)

    final = stored_state(settings)
    assert set(final) == codes
    assert all(len(ids) == 1 for ids in final.values())
