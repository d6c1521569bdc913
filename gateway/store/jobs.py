"""Bulk jobs and the queue of their chunks.

A job's records are stored in chunks, sealed with the tenant's data key (as stored
records are, ``gateway.store.encryption``), until a worker has issued them; the chunk
then holds the sealed outcome lines instead and its input is gone.

The queue is the ``job_chunks`` table itself. A worker claims the oldest chunk that is
queued, or whose holder's lease has run out (a killed worker), in one short unit of
work: on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, so workers of any number
of instances take different chunks without waiting on each other; on SQLite inside the
database's single write lock (``BEGIN IMMEDIATE``), where the same query is serial by
construction. The lease is renewed while the chunk is worked on; only the worker still
holding it records the chunk as done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from gateway.errors import NotFound
from gateway.store import tables
from gateway.store.encryption import sealer_of

#: One record of a chunk as uploaded: ``[number, text]``, or ``[number, None, reason]``
#: for a line refused before it was read (``too-long``, ``not-utf8``).
ChunkItem = list[Any]


@dataclass(frozen=True)
class JobView:
    """A job as its owner sees it.

    :ivar tenant_name: the submitting tenant's name.
    """

    id: str
    tenant_id: int
    tenant_name: str
    key_id: int
    role: str
    proof_format: str
    mapping: str | None
    state: str
    records: int
    chunks: int
    chunks_done: int
    created: int
    repeated: int
    refused: int
    submitted_by: str
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class ClaimedChunk:
    """A chunk a worker holds under a lease, with the job it belongs to.

    :ivar attempts: how many times a worker has claimed it, this time included.
    """

    id: int
    seq: int
    job: JobView
    items: list[ChunkItem]
    attempts: int


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Chunks a worker may take: queued, or held under a lease that has run out."""
    return or_(
        tables.JobChunk.state == "queued",
        (tables.JobChunk.state == "running") & (tables.JobChunk.lease_expires < now),
    )


def _binding(job_id: str, seq: int, part: str, tenant_id: int) -> dict[str, Any]:
    # Input and results are bound apart, so neither can be moved into the other's place.
    return {"table": "job_chunks", "row_id": f"{job_id} {seq} {part}", "tenant_id": tenant_id}


def _view(job: tables.Job, tenant_name: str) -> JobView:
    return JobView(
        id=job.id,
        tenant_id=job.tenant_id,
        tenant_name=tenant_name,
        key_id=job.key_id,
        role=job.role,
        proof_format=job.proof_format,
        mapping=job.mapping,
        state=job.state,
        records=job.records,
        chunks=job.chunks,
        chunks_done=job.chunks_done,
        created=job.created,
        repeated=job.repeated,
        refused=job.refused,
        submitted_by=job.submitted_by,
        submitted_at=job.submitted_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


class Jobs:
    """Bulk jobs and their chunks in one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- submission ----------------------------------------------------------------------

    def create(
        self,
        job_id: str,
        *,
        tenant_id: int,
        key_id: int,
        role: str,
        proof_format: str,
        mapping: str | None,
        submitted_by: str,
    ) -> None:
        """A new job, ``receiving`` until :meth:`release` (its chunks are held till then)."""
        self.session.add(
            tables.Job(
                id=job_id,
                tenant_id=tenant_id,
                key_id=key_id,
                role=role,
                proof_format=proof_format,
                mapping=mapping,
                state="receiving",
                records=0,
                chunks=0,
                chunks_done=0,
                created=0,
                repeated=0,
                refused=0,
                submitted_by=submitted_by,
            )
        )
        self.session.flush()

    def add_chunk(self, job_id: str, tenant_id: int, seq: int, items: Sequence[ChunkItem]) -> None:
        """Store one chunk of a receiving job, sealed."""
        sealed = sealer_of(self.session).seal(
            self.session, list(items), **_binding(job_id, seq, "input", tenant_id)
        )
        self.session.add(
            tables.JobChunk(
                job_id=job_id,
                seq=seq,
                records=len(items),
                state="held",
                input_sealed=sealed,
                attempts=0,
            )
        )
        self.session.flush()

    def release(self, job_id: str, records: int, chunks: int) -> None:
        """The upload is complete: its chunks join the queue (a job of no records is done)."""
        now = tables.utcnow()
        self.session.execute(
            update(tables.JobChunk)
            .where(tables.JobChunk.job_id == job_id, tables.JobChunk.state == "held")
            .values(state="queued")
        )
        self.session.execute(
            update(tables.Job)
            .where(tables.Job.id == job_id)
            .values(
                state="queued" if chunks else "done",
                records=records,
                chunks=chunks,
                finished_at=None if chunks else now,
            )
        )

    def discard(self, job_id: str) -> None:
        """Remove a job whose upload failed, with its chunks."""
        self.session.execute(delete(tables.JobChunk).where(tables.JobChunk.job_id == job_id))
        self.session.execute(delete(tables.Job).where(tables.Job.id == job_id))

    def discard_stale(self, before: datetime) -> int:
        """Remove jobs still receiving since before ``before`` (their upload broke off
        with the process that read it).

        :returns: how many were removed.
        """
        return self._discard_where(
            tables.Job.state == "receiving", tables.Job.submitted_at < before
        )

    def discard_finished(self, before: datetime) -> int:
        """Remove jobs that finished before ``before``, with their outcome lines (the
        passports they issued stay).

        :returns: how many were removed.
        """
        return self._discard_where(
            tables.Job.state.in_(("done", "failed")), tables.Job.finished_at < before
        )

    def _discard_where(self, *conditions: ColumnElement[bool]) -> int:
        ids = list(self.session.scalars(select(tables.Job.id).where(*conditions)))
        for job_id in ids:
            self.discard(job_id)
        return len(ids)

    # -- reading -------------------------------------------------------------------------

    def get(self, job_id: str, tenant_id: int | None) -> JobView:
        """A job, among one tenant's (``None``: any tenant's).

        :raises NotFound: there is none (another tenant's answers the same).
        """
        query = (
            select(tables.Job, tables.Tenant.name)
            .join(tables.Tenant, tables.Tenant.id == tables.Job.tenant_id)
            .where(tables.Job.id == job_id, tables.Job.state != "receiving")
        )
        if tenant_id is not None:
            query = query.where(tables.Job.tenant_id == tenant_id)
        row = self.session.execute(query).first()
        if row is None:
            raise NotFound(f"no job {job_id!r}", pointer="id")
        return _view(row[0], row[1])

    def listing(self, tenant_id: int | None, *, after: str | None, limit: int) -> list[JobView]:
        """Jobs newest first, among one tenant's (``None``: any tenant's), once their
        upload is read: those after job ``after`` in that order (an earlier page's last).

        :raises NotFound: ``after`` is no job of the tenant's.
        """
        query = (
            select(tables.Job, tables.Tenant.name)
            .join(tables.Tenant, tables.Tenant.id == tables.Job.tenant_id)
            .where(tables.Job.state != "receiving")
        )
        if tenant_id is not None:
            query = query.where(tables.Job.tenant_id == tenant_id)
        if after is not None:
            mark = self.get(after, tenant_id)
            query = query.where(
                or_(
                    tables.Job.submitted_at < mark.submitted_at,
                    and_(tables.Job.submitted_at == mark.submitted_at, tables.Job.id < mark.id),
                )
            )
        rows = self.session.execute(
            query.order_by(tables.Job.submitted_at.desc(), tables.Job.id.desc()).limit(limit)
        ).all()
        return [_view(job, name) for job, name in rows]

    def results(self, job: JobView, after: int, chunks: int) -> list[tuple[int, list[Any]]]:
        """The outcome lines of up to ``chunks`` finished chunks after chunk ``after``, in
        order, stopping before the first one not finished yet.

        :returns: ``(seq, lines)`` per chunk.
        """
        rows = self.session.execute(
            select(tables.JobChunk.seq, tables.JobChunk.state, tables.JobChunk.results_sealed)
            .where(tables.JobChunk.job_id == job.id, tables.JobChunk.seq > after)
            .order_by(tables.JobChunk.seq)
            .limit(chunks)
        ).all()
        sealer = sealer_of(self.session)
        out: list[tuple[int, list[Any]]] = []
        expected = after + 1
        for seq, state, sealed in rows:
            if seq != expected or state not in ("done", "failed") or sealed is None:
                break
            lines = sealer.open(
                self.session, sealed, **_binding(job.id, seq, "results", job.tenant_id)
            )
            out.append((seq, lines))
            expected += 1
        return out

    # -- the queue -----------------------------------------------------------------------

    def waiting(self) -> bool:
        """Whether a chunk could be claimed now: a read, so that idle workers polling
        take no write lock (SQLite has one for the whole database)."""
        query = select(tables.JobChunk.id).where(_claimable(tables.utcnow())).limit(1)
        return self.session.scalar(query) is not None

    def claim(self, owner: str, lease: timedelta) -> ClaimedChunk | None:
        """Take the oldest chunk that is queued or whose lease ran out, for ``lease``.

        :returns: the chunk with its records opened, or ``None`` when there is none.
        """
        now = tables.utcnow()
        query = (
            select(tables.JobChunk)
            .where(_claimable(now))
            .order_by(tables.JobChunk.id)
            .limit(1)
            # PostgreSQL: skip chunks another worker is claiming this instant. SQLite
            # renders no locking clause; its write lock already makes claims serial.
            .with_for_update(skip_locked=True)
        )
        chunk = self.session.scalars(query).first()
        if chunk is None:
            return None
        chunk.state = "running"
        chunk.lease_owner = owner
        chunk.lease_expires = now + lease
        chunk.attempts += 1
        job = self.session.get(tables.Job, chunk.job_id)
        assert job is not None  # the foreign key
        if job.state == "queued":
            job.state = "running"
            job.started_at = now
        self.session.flush()
        tenant = self.session.get(tables.Tenant, job.tenant_id)
        assert tenant is not None and chunk.input_sealed is not None
        items = sealer_of(self.session).open(
            self.session,
            chunk.input_sealed,
            **_binding(job.id, chunk.seq, "input", job.tenant_id),
        )
        return ClaimedChunk(chunk.id, chunk.seq, _view(job, tenant.name), items, chunk.attempts)

    def renew(self, chunk_id: int, owner: str, lease: timedelta) -> bool:
        """Extend a held lease.

        :returns: ``False`` when another worker has taken the chunk over.
        """
        result = self.session.execute(
            update(tables.JobChunk)
            .where(
                tables.JobChunk.id == chunk_id,
                tables.JobChunk.lease_owner == owner,
                tables.JobChunk.state == "running",
            )
            .values(lease_expires=tables.utcnow() + lease)
        )
        return bool(getattr(result, "rowcount", 0))

    def complete(
        self,
        claimed: ClaimedChunk,
        owner: str,
        lines: list[dict[str, Any]],
        counts: dict[str, int],
        *,
        failed: bool = False,
    ) -> bool:
        """Record a chunk's outcome lines (sealed) in place of its input, and count them
        in its job, which is done once every chunk is.

        :param counts: outcomes by kind (``created``, ``repeated``, ``refused``).
        :param failed: the chunk could not be worked (it ended its workers too often).
        :returns: ``False`` when the lease was lost: another worker holds the chunk and
            will record it, so nothing is written.
        """
        chunk = self.session.scalars(
            select(tables.JobChunk).where(tables.JobChunk.id == claimed.id).with_for_update()
        ).first()
        if chunk is None or chunk.state != "running" or chunk.lease_owner != owner:
            return False
        now = tables.utcnow()
        job = claimed.job
        chunk.results_sealed = sealer_of(self.session).seal(
            self.session, lines, **_binding(job.id, chunk.seq, "results", job.tenant_id)
        )
        chunk.input_sealed = None
        chunk.state = "failed" if failed else "done"
        chunk.lease_owner = None
        chunk.lease_expires = None
        chunk.finished_at = now
        # One UPDATE with relative values: workers of several instances finish chunks of
        # one job at once, and the row lock it takes orders them.
        self.session.execute(
            update(tables.Job)
            .where(tables.Job.id == job.id)
            .values(
                chunks_done=tables.Job.chunks_done + 1,
                created=tables.Job.created + counts.get("created", 0),
                repeated=tables.Job.repeated + counts.get("repeated", 0),
                refused=tables.Job.refused + counts.get("refused", 0),
            )
        )
        row = self.session.get(tables.Job, job.id, populate_existing=True)
        assert row is not None
        if row.chunks_done >= row.chunks:
            any_failed = self.session.scalar(
                select(tables.JobChunk.id)
                .where(tables.JobChunk.job_id == job.id, tables.JobChunk.state == "failed")
                .limit(1)
            )
            row.state = "failed" if any_failed is not None else "done"
            row.finished_at = now
        self.session.flush()
        return True
