"""An existing store is encrypted in place: the migration to 0010 keeps every record
readable, then ``gateway keys encrypt-store`` seals them in batches; killed with SIGKILL
half-way, it goes on where it stopped when run again, and every record opens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from gateway.settings import Settings
from gateway.store import Passports
from gateway.store.db import Database, init_db
from gateway.store.encryption import DataKeys
from tests.helpers import RECORDS

ROWS = 600
BATCH = 2

_TENANTS = sa.table("tenants", sa.column("id"), sa.column("name"), sa.column("created_at"))
_PASSPORTS = sa.table(
    "passports",
    *(
        sa.column(name)
        for name in (
            "id",
            "battery_code",
            "tenant_id",
            "category",
            "status",
            "mapping_set",
            "mapping_version",
            "mapping_hash",
            "record_sha256",
            "created_at",
        )
    ),
    sa.column("record", sa.JSON()),
    sa.column("gaps", sa.JSON()),
)
_CREDENTIALS = sa.table(
    "credentials",
    *(
        sa.column(name)
        for name in ("id", "passport_id", "access_group", "format", "body", "created_at")
    ),
)


def _fill_before_encryption(db: Database) -> dict[str, dict[str, object]]:
    """Passports as a store at revision 0009 holds them: records in clear."""
    record = json.loads((RECORDS / "vin-repair-pack.json").read_text(encoding="utf-8"))
    now = datetime(2025, 6, 1, tzinfo=UTC)
    rows = {}
    for n in range(ROWS):
        code = f"4A6PCPM27KLPCLE7{n:08d}"
        rows[f"https://gw.example/passports/{code}"] = {
            **record,
            "battery": {**record["battery"], "code": code},
        }
    with db.engine.begin() as conn:
        conn.execute(sa.insert(_TENANTS).values(id=1, name="acme", created_at=now))
        conn.execute(
            sa.insert(_PASSPORTS),
            [
                {
                    "id": pid,
                    "battery_code": rec["battery"]["code"],  # type: ignore[index]
                    "tenant_id": 1,
                    "category": "ev",
                    "status": "active",
                    "mapping_set": "cn-trace-to-eu-passport",
                    "mapping_version": "1.1.0",
                    "mapping_hash": "sha256:0",
                    "record_sha256": "0" * 64,
                    "created_at": now,
                    "record": rec,
                    "gaps": {},
                }
                for pid, rec in rows.items()
            ],
        )
        conn.execute(
            sa.insert(_CREDENTIALS),
            [
                {
                    "id": f"urn:uuid:{section[-1]}-{n}",
                    "passport_id": pid,
                    "access_group": section,
                    "format": "jwt",
                    "body": _body(pid, section),
                    "created_at": now,
                }
                for n, pid in enumerate(rows)
                for section in ("annex-xiii-1", "annex-xiii-4")
            ],
        )
    return rows


def _body(passport_id: str, section: str) -> str:
    return f"{section}.{passport_id}.signature"


def _encrypt_store(home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from gateway.cli import main; main()",
            "keys",
            "encrypt-store",
            "--batch",
            str(BATCH),
        ],
        env={**os.environ, **env, "GATEWAY_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_migrate_then_encrypt_resumes_after_kill(tmp_path: Path, db_url: str) -> None:
    home = tmp_path / "instance"
    settings = Settings(home=home, database_url=db_url)
    db = Database.connect(db_url)
    db.upgrade("0009")
    rows = _fill_before_encryption(db)
    db.dispose()

    db = init_db(settings)  # to the newest revision; records still in clear and readable
    try:
        with db.reading() as session:
            assert DataKeys(session).clear_records_left() == 2 * ROWS  # records, point 4
            some = next(iter(rows))
            assert Passports(session).get(some).record == rows[some]
    finally:
        db.dispose()

    env = {"DATABASE_URL": db_url}
    with _encrypt_store(home, env) as first:
        assert first.stderr is not None
        line = first.stderr.readline()  # printed after the first batch committed
        assert " sealed" in line, line + first.stderr.read()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL

    db = init_db(settings)
    try:
        with db.reading() as session:
            left = DataKeys(session).clear_records_left()
        assert left <= 2 * ROWS - BATCH
        second = _encrypt_store(home, env)
        out, err = second.communicate(timeout=600)
        assert second.returncode == 0, err
        assert "none left in clear" in out
        with db.reading() as session:
            assert DataKeys(session).clear_records_left() == 0
            store = Passports(session)
            for passport_id, record in rows.items():
                assert store.get(passport_id).record == record
                bodies = {c.access_group: c.body for c in store.credentials(passport_id)}
                assert bodies == {s: _body(passport_id, s) for s in bodies}
                assert len(bodies) == 2
            # Point 1 is public and stays in clear; point 4 is sealed.
            clear = session.execute(
                sa.select(_CREDENTIALS.c.access_group).where(_CREDENTIALS.c.body.is_not(None))
            ).scalars()
            assert set(clear) == {"annex-xiii-1"}
    finally:
        db.dispose()
    if db_url.startswith("sqlite"):
        # Compacted: no freed page keeps a clear record.
        path = Path(sa.engine.make_url(db_url).database or "")
        data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert b"LNBSCTEST00000001" not in data and "张三".encode() not in data
