"""Jobs under real ``gateway serve`` processes: the embedded database's in-process
worker, and two instances on one PostgreSQL database, one of them killed mid-job."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.records import RecordFactory
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import Database, tables
from tests.helpers import issue_secrets, postgres_schema
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

#: Bound on every wait for a job (never a timing assertion: only a hang fails it).
DEADLINE = 300.0


def _records(serials: range) -> bytes:
    factory = RecordFactory(cells=12)
    return b"".join(factory.line(i) for i in serials)


def _request(
    server: LiveServer, method: str, path: str, key: str, body: bytes | None = None
) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        if body is not None:
            headers["Content-Type"] = "application/x-ndjson"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        assert response.status in (200, 202), payload[:2000]
        return json.loads(payload)
    finally:
        conn.close()


def _wait_done(server: LiveServer, key: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        job = _request(server, "GET", f"/jobs/{job_id}", key)
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _lines(server: LiveServer, key: str, job_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = _request(server, "GET", f"/jobs/{job_id}/results?after={after}&limit=100", key)
        lines += page["items"]
        after = page["next"]
    return lines


def test_the_embedded_database_runs_jobs_in_the_server(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    settings = Settings.load({"home": home, "base_url": "https://gw.example"})
    prepare_instance(settings)
    key = issue_secrets(settings, {"acme": ("exporter",)})["acme"]["exporter"]
    server = LiveServer(
        home, tmp_path / "server.log", "--workers", "1", GATEWAY_JOB_CHUNK_RECORDS="2"
    )
    try:
        job = _request(server, "POST", "/jobs?format=jwt", key, _records(range(5)))
        assert job["records"] == 5
        done = _wait_done(server, key, job["id"])
        assert done["state"] == "done" and done["outcomes"]["created"] == 5
        assert [o["line"] for o in _lines(server, key, job["id"])] == [1, 2, 3, 4, 5]
    finally:
        server.kill()


@pytest.fixture
def shared_database() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def _group_of(owner: str) -> int | None:
    """The process group of the worker a lease names (``host:pid:thread``)."""
    try:
        return os.getpgid(int(owner.split(":")[1]))
    except (IndexError, ValueError, ProcessLookupError):
        return None


@pytest.mark.postgres
def test_two_instances_share_a_job_and_survive_the_death_of_one(
    tmp_path: Path, shared_database: str
) -> None:
    # Two instance folders sharing the signing key and key-encryption key, one database.
    first, second = tmp_path / "a", tmp_path / "b"
    settings = Settings.load(
        {"home": first, "database_url": shared_database, "base_url": "https://gw.example"}
    )
    prepare_instance(settings)
    second.mkdir()
    shutil.copytree(first / "keys", second / "keys")
    prepare_instance(
        Settings.load(
            {"home": second, "database_url": shared_database, "base_url": "https://gw.example"}
        )
    )
    key = issue_secrets(settings, {"acme": ("exporter",)})["acme"]["exporter"]
    options = {"GATEWAY_JOB_CHUNK_RECORDS": "6", "GATEWAY_JOB_LEASE_SECONDS": "3"}
    servers = [
        LiveServer(
            home,
            tmp_path / f"{home.name}.log",
            "--workers",
            "1",
            "--job-worker",
            database_url=shared_database,
            **options,
        )
        for home in (first, second)
    ]
    db = Database.connect(shared_database)
    records = 120
    try:
        job = _request(servers[0], "POST", "/jobs?format=jwt", key, _records(range(records)))
        # Watch the leases until each instance has held a chunk, then kill the second
        # while it holds one.
        groups = {server.proc.pid: server for server in servers}
        seen: set[int] = set()
        killed_chunk = None
        deadline = time.monotonic() + DEADLINE
        while killed_chunk is None and time.monotonic() < deadline:
            with db.reading() as session:
                held = session.execute(
                    select(tables.JobChunk.id, tables.JobChunk.lease_owner).where(
                        tables.JobChunk.state == "running"
                    )
                ).all()
                state = session.scalar(select(tables.Job.state).where(tables.Job.id == job["id"]))
            assert state != "done", "the job finished before both instances were seen at work"
            for chunk_id, owner in held:
                group = _group_of(owner or "")
                if group in groups:
                    seen.add(group)
                    if group == servers[1].proc.pid and len(seen) == 2:
                        killed_chunk = chunk_id
            time.sleep(0.01)
        assert killed_chunk is not None, "both instances never held chunks at once"
        os.killpg(servers[1].proc.pid, signal.SIGKILL)
        servers[1].kill()

        done = _wait_done(servers[0], key, job["id"])
        assert done["state"] == "done"
        assert done["outcomes"]["refused"] == 0 and done["outcomes"]["pending"] == 0
        assert done["outcomes"]["created"] + done["outcomes"]["repeated"] == records
        lines = _lines(servers[0], key, job["id"])
        assert [o["line"] for o in lines] == list(range(1, records + 1))
        with db.reading() as session:
            passports = session.scalar(select(func.count()).select_from(tables.Passport))
            codes = session.scalar(select(func.count(func.distinct(tables.Passport.battery_code))))
            retried = session.scalar(
                select(tables.JobChunk.attempts).where(tables.JobChunk.id == killed_chunk)
            )
        assert passports == codes == records  # every record exactly once
        assert len({o["batteryCode"] for o in lines}) == records
        assert retried == 2  # the killed instance's chunk was taken over
    finally:
        db.dispose()
        for server in servers:
            server.kill()


def test_sigterm_lets_a_worker_finish_its_chunk_first(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    settings = Settings.load({"home": home, "base_url": "https://gw.example"})
    prepare_instance(settings)
    issue_secrets(settings, {"acme": ("exporter",)})
    (tmp_path / "records.ndjson").write_bytes(_records(range(16)))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GATEWAY_HOME=str(home), GATEWAY_JOB_CHUNK_RECORDS="8")
    gateway = [sys.executable, "-m", "gateway", "jobs"]
    submitted = subprocess.run(
        [*gateway, "submit", str(tmp_path / "records.ndjson"), "--tenant", "acme"],
        env=env,
        capture_output=True,
        timeout=DEADLINE,
    )
    assert submitted.returncode == 0, submitted.stderr.decode()
    job_id = submitted.stdout.decode().strip()
    worker = subprocess.Popen([*gateway, "work"], env=env, stderr=subprocess.PIPE)
    db = Database.connect(settings.db_url)
    try:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            with db.reading() as session:
                if session.scalar(
                    select(tables.JobChunk.id).where(tables.JobChunk.state == "running")
                ):
                    break
            time.sleep(0.01)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=DEADLINE)
        assert worker.returncode == 0, err
        with db.reading() as session:
            states = session.scalars(
                select(tables.JobChunk.state).order_by(tables.JobChunk.seq)
            ).all()
            job = session.get(tables.Job, job_id)
        # The chunk in hand was finished and recorded; the next one was never started.
        assert states == ["done", "queued"]
        assert job is not None and job.created == 8 and job.state == "running"
    finally:
        worker.kill()
        db.dispose()
