"""The chunk queue: leases, take-over from a worker that died, records issued once."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from gateway import services
from gateway.services.jobs import MAX_ATTEMPTS
from gateway.settings import Settings
from gateway.store import tables
from gateway.store.jobs import Jobs
from tests.helpers import BASE_URL, RECORDS, issue_secrets

CODES = ("Z9ZPEB3SPRS001E9R0000901", "Z9ZPEB3SPRS001E9R0000902", "Z9ZPEB3SPRS001E9R0000903")


def _body() -> bytes:
    """Three records of their own batteries (``sparse-pack.json`` under three serials)."""
    record = json.loads((RECORDS / "sparse-pack.json").read_text("utf-8"))
    lines = []
    for code in CODES:
        record["battery"]["code"] = code
        lines.append(json.dumps(record).encode() + b"\n")
    return b"".join(lines)


@pytest.fixture
def instance(tmp_path: Path, backend_url: str) -> Iterator[services.Instance]:
    settings = Settings.load(
        {
            "home": tmp_path / "instance",
            "database_url": backend_url,
            "base_url": BASE_URL,
            "job_chunk_records": 3,
        }
    )
    services.prepare_instance(settings)
    issue_secrets(settings, {"acme": ("exporter",)})
    gateway = services.open_instance(settings)
    yield gateway
    gateway.db.dispose()


def _submit(instance: services.Instance) -> str:
    caller = services.console_principal(instance, "acme")
    return services.submit_job(instance, io.BytesIO(_body()), principal=caller).job.id


def _work(instance: services.Instance) -> int:
    return services.work(instance, stop=threading.Event(), until_idle=True, owner="alive")


def test_a_chunk_whose_worker_died_is_taken_over_and_its_records_issued_once(
    instance: services.Instance,
) -> None:
    job_id = _submit(instance)
    # A worker claims the chunk, commits its first record, and dies: its lease runs out.
    with instance.db.transaction() as session:
        claimed = Jobs(session).claim("dead", timedelta(seconds=-1))
    assert claimed is not None and claimed.attempts == 1
    first = json.loads(_body().splitlines()[0])
    caller = services.console_principal(instance, "acme")
    (made,) = services.issue_many(
        instance,
        [(1, first)],
        principal=caller,
        idempotency_key=lambda n: f"job:{job_id}#{n}",
    )
    assert made.outcome == "created"

    assert _work(instance) == 1
    progress = services.job_progress(instance, services.CONSOLE_ADMIN, job_id).to_dict()
    assert progress["state"] == "done"
    assert progress["outcomes"] == {"created": 2, "repeated": 1, "refused": 0, "pending": 0}
    lines, cursor = services.job_results(instance, services.CONSOLE_ADMIN, job_id)
    assert cursor is None
    assert [(o["line"], o["outcome"]) for o in lines] == [
        (1, "repeated"),
        (2, "created"),
        (3, "created"),
    ]
    assert lines[0]["credentials"] == {k: v for k, v in made.issued.credentials.items()}
    with instance.db.reading() as session:
        codes = session.scalars(select(tables.Passport.battery_code)).all()
        chunk = session.scalars(select(tables.JobChunk)).one()
    assert sorted(codes) == sorted(CODES)
    assert chunk.attempts == 2
    # The dead worker, were it to come back, records nothing.
    with instance.db.transaction() as session:
        assert not Jobs(session).complete(claimed, "dead", [], {})


def test_a_held_lease_is_left_alone(instance: services.Instance) -> None:
    job_id = _submit(instance)
    with instance.db.transaction() as session:
        claimed = Jobs(session).claim("busy", timedelta(hours=1))
    assert claimed is not None
    assert _work(instance) == 0
    progress = services.job_progress(instance, services.CONSOLE_ADMIN, job_id).to_dict()
    assert progress["state"] == "running" and progress["outcomes"]["pending"] == 3
    with instance.db.transaction() as session:
        assert Jobs(session).renew(claimed.id, "busy", timedelta(hours=1))
        assert not Jobs(session).renew(claimed.id, "someone else", timedelta(hours=1))


def test_a_chunk_that_keeps_ending_its_workers_is_given_up(instance: services.Instance) -> None:
    job_id = _submit(instance)
    with instance.db.transaction() as session:
        session.execute(
            update(tables.JobChunk).values(
                state="running",
                lease_owner="gone",
                lease_expires=tables.utcnow() - timedelta(seconds=1),
                attempts=MAX_ATTEMPTS,
            )
        )
    assert _work(instance) == 1
    progress = services.job_progress(instance, services.CONSOLE_ADMIN, job_id).to_dict()
    assert progress["state"] == "failed"
    assert progress["outcomes"]["refused"] == 3
    lines, _ = services.job_results(instance, services.CONSOLE_ADMIN, job_id)
    assert {o["problem"]["status"] for o in lines} == {500}
    with instance.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(tables.Passport)) == 0


def test_a_broken_upload_leaves_no_job(instance: services.Instance) -> None:
    class Broken(io.BytesIO):
        def readline(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise ConnectionResetError("client went away")
            return super().readline(size)

    caller = services.console_principal(instance, "acme")
    with pytest.raises(ConnectionResetError):
        services.submit_job(instance, Broken(_body()), principal=caller)
    with instance.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(tables.Job)) == 0
        assert session.scalar(select(func.count()).select_from(tables.JobChunk)) == 0
