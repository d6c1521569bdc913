"""Bulk jobs: an NDJSON upload becomes a job id at once; workers of any instance issue its
records chunk by chunk (``issue_many``); its owner follows the progress and pages
through the outcome lines.

Every record is issued with an idempotency key made of the job and the record's line
number, so a chunk taken over from a killed worker finds what that worker committed as
``repeated``, and a job ends with each record issued exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from gateway import auth
from gateway.auth import CONSOLE_ADMIN, Principal
from gateway.credentials import formats
from gateway.errors import BodyTooLarge, GatewayError, InvalidInput, MalformedBody, NotFound
from gateway.mapping import names
from gateway.records.reader import read_record
from gateway.services.instance import Instance
from gateway.services.issuance import (
    INTERNAL_ERROR,
    Outcome,
    RecordItem,
    issue_many,
    require_issuer,
)
from gateway.store.jobs import ChunkItem, ClaimedChunk, Jobs, JobView
from gateway.store.tables import utcnow

log = logging.getLogger(__name__)

#: Gap report figures an outcome line carries (the whole report is ``GET …/gaps``).
_SUMMARY_KEYS = ("summary", "mandatory", "readiness")
#: A chunk that has ended its workers this many times is given up (its records refused
#: with an internal error) rather than taken on by the next worker.
MAX_ATTEMPTS = 5
#: A job id: 32 lowercase hexadecimal digits.
_HEX = frozenset("0123456789abcdef")
#: Most outcome lines one results page holds (whole chunks; at least one chunk).
MAX_PAGE_LINES = 10_000
#: An upload that broke off is cleared away after this long.
STALE_UPLOAD = timedelta(hours=6)
#: Most jobs one page of the listing holds.
MAX_JOB_PAGE = 1000


def outcome_line(outcome: Outcome) -> dict[str, Any]:
    """One NDJSON line of a batch: the record's outcome, as ``openapi.yaml`` describes
    (``BatchOutcome``). A refusal carries the error's problem, which names withheld
    fields but never their values."""
    issued = outcome.issued
    if issued is None:
        return {"line": outcome.number, "outcome": outcome.outcome, "problem": outcome.problem}
    passport = issued.passport
    return {
        "line": outcome.number,
        "outcome": outcome.outcome,
        "id": passport.id,
        "batteryCode": passport.battery_code,
        "credentials": issued.credentials,
        "gaps": {k: passport.gaps[k] for k in _SUMMARY_KEYS if k in passport.gaps},
    }


def ndjson_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines of a stream; ``None`` for a line longer than ``limit`` bytes, which
    is skipped without holding it in memory."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # drain the rest of the long line
                rest = stream.readline(limit + 1)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, line


@dataclass(frozen=True)
class JobProgress:
    """A job and how far it has come.

    :ivar job: the stored job.
    """

    job: JobView

    def to_dict(self) -> dict[str, Any]:
        """The job as ``GET /jobs/{id}`` and ``gateway jobs show --json`` give it."""
        job = self.job
        return {
            "id": job.id,
            "tenant": job.tenant_name,
            "state": job.state,
            "format": job.proof_format,
            "mapping": job.mapping,
            "records": job.records,
            "outcomes": {
                "created": job.created,
                "repeated": job.repeated,
                "refused": job.refused,
                "pending": job.records - job.created - job.repeated - job.refused,
            },
            "chunks": {"total": job.chunks, "done": job.chunks_done},
            "submitted": job.submitted_at.isoformat(),
            "started": job.started_at.isoformat() if job.started_at else None,
            "finished": job.finished_at.isoformat() if job.finished_at else None,
        }


def _scope(principal: Principal) -> int | None:
    """Whose jobs a caller may see: its own tenant's; the console operator any."""
    return None if principal == CONSOLE_ADMIN else principal.tenant_id


def check_job_id(job_id: str) -> str:
    """A job id as a path or command gives it.

    :raises NotFound: not the shape of one (so no query is made for it).
    """
    if len(job_id) != 32 or not set(job_id) <= _HEX:
        raise NotFound("no job with this id", pointer="id")
    return job_id


def _chunk_item(number: int, line: bytes | None) -> ChunkItem | None:
    if line is None:
        return [number, None, "too-long"]
    if not line.strip():
        return None
    try:
        return [number, line.decode("utf-8")]
    except UnicodeDecodeError:
        return [number, None, "not-utf8"]


def submit_job(
    instance: Instance,
    stream: IO[bytes],
    *,
    principal: Principal | None,
    proof_format: str = "di",
    mapping: str | None = None,
) -> JobProgress:
    """Store an NDJSON upload as a job, one record per line, sealed in chunks; the job
    is queued once the whole upload is read (a broken upload leaves nothing).

    Lines are bounded as ``POST /passports/batch`` bounds them (each to the body limit)
    and refused one by one when the job runs; the job to ``max_job_records`` records.

    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises BodyTooLarge: more records than a job may hold.
    :raises InvalidInput: an unknown proof format or a malformed mapping reference.
    :raises MappingNotFound: no such published mapping version.
    """
    caller = require_issuer(principal)
    proof_format = formats.proof_format(proof_format)
    settings = instance.settings
    if mapping is not None:
        names.parse_ref(mapping, "mapping")
    # An unknown mapping version is refused now, not once per record by the workers.
    instance.mapping(mapping or settings.mapping)
    job_id = uuid.uuid4().hex
    with instance.db.transaction() as session:
        Jobs(session).create(
            job_id,
            tenant_id=caller.tenant_id,
            key_id=caller.key_id,
            role=caller.role,
            proof_format=proof_format,
            mapping=mapping,
            submitted_by=auth.audit_actor(caller),
        )
    records = chunks = 0
    pending: list[ChunkItem] = []

    def flush() -> None:
        nonlocal chunks
        # One short unit of work per chunk: the upload is read from the network
        # between them, never inside SQLite's write lock.
        with instance.db.transaction() as session:
            Jobs(session).add_chunk(job_id, caller.tenant_id, chunks + 1, pending)
        chunks += 1
        pending.clear()

    try:
        for number, line in ndjson_lines(stream, settings.max_body_bytes):
            item = _chunk_item(number, line)
            if item is None:
                continue
            records += 1
            if records > settings.max_job_records:
                raise BodyTooLarge(
                    f"a job holds at most {settings.max_job_records} records",
                    pointer="/",
                )
            pending.append(item)
            if len(pending) >= settings.job_chunk_records:
                flush()
        if pending:
            flush()
        with instance.db.transaction() as session:
            Jobs(session).release(job_id, records, chunks)
    except BaseException:
        with instance.db.transaction() as session:
            Jobs(session).discard(job_id)
        raise
    return job_progress(instance, caller, job_id)


def job_progress(instance: Instance, principal: Principal | None, job_id: str) -> JobProgress:
    """A job of the caller's tenant.

    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises NotFound: no such job of the caller's tenant.
    """
    caller = auth.require(principal, auth.may_issue(principal), "follow bulk jobs")
    check_job_id(job_id)
    with instance.db.reading() as session:
        return JobProgress(Jobs(session).get(job_id, _scope(caller)))


def list_jobs(
    instance: Instance, principal: Principal | None, *, after: str | None = None, limit: int = 100
) -> list[JobProgress]:
    """The caller's tenant's jobs, newest first (the console operator's: every tenant's),
    a page at a time: those after job ``after``, at most ``limit``
    (:data:`MAX_JOB_PAGE`).

    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises InvalidInput: ``limit`` outside 1 to :data:`MAX_JOB_PAGE`.
    :raises NotFound: ``after`` is no job of the caller's tenant.
    """
    caller = auth.require(principal, auth.may_issue(principal), "follow bulk jobs")
    if not 1 <= limit <= MAX_JOB_PAGE:
        raise InvalidInput(f"limit must be from 1 to {MAX_JOB_PAGE}", pointer="limit")
    try:
        if after is not None:
            check_job_id(after)
        with instance.db.reading() as session:
            views = Jobs(session).listing(_scope(caller), after=after, limit=limit)
    except NotFound:
        raise NotFound("no job with this id to list after", pointer="after") from None
    return [JobProgress(view) for view in views]


def job_results(
    instance: Instance,
    principal: Principal | None,
    job_id: str,
    *,
    after: int = 0,
    limit: int = 1000,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of a job's outcome lines, in line order: those of the finished chunks
    after chunk ``after``, whole chunks up to about ``limit`` lines.

    :returns: the lines and the cursor of the next page (``None``: the job is finished
        and this was its last page; while it runs, a page may be empty).
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises NotFound: no such job of the caller's tenant.
    """
    caller = auth.require(principal, auth.may_issue(principal), "follow bulk jobs")
    check_job_id(job_id)
    limit = max(1, min(limit, MAX_PAGE_LINES))
    chunk_size = instance.settings.job_chunk_records
    with instance.db.reading() as session:
        jobs = Jobs(session)
        job = jobs.get(job_id, _scope(caller))
        pages = jobs.results(job, after, max(1, limit // chunk_size))
    lines = [line for _, chunk in pages for line in chunk]
    last = pages[-1][0] if pages else after
    finished = job.state in ("done", "failed") and last >= job.chunks
    return lines, None if finished else last


# -- workers -------------------------------------------------------------------------------


def worker_name() -> str:
    """A name for this worker that says where it runs (host, process, thread)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100_000}"


def _records(items: list[ChunkItem]) -> Iterator[RecordItem]:
    for item in items:
        number, text = int(item[0]), item[1]
        try:
            if text is None:
                reason = item[2] if len(item) > 2 else "too-long"
                if reason == "not-utf8":
                    raise MalformedBody(f"line {number} is not UTF-8 text")
                raise BodyTooLarge(f"line {number} is longer than the body limit")
            yield number, read_record(text.encode("utf-8"), "application/json")
        except Exception as exc:  # refused as this line's outcome, not the chunk's
            yield number, exc


def _principal(job: JobView) -> Principal:
    return Principal(
        tenant_id=job.tenant_id, tenant_name=job.tenant_name, role=job.role, key_id=job.key_id
    )


def _issue_chunk(
    instance: Instance, claimed: ClaimedChunk, owner: str, lease: timedelta
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Issue a chunk's records, renewing the lease as the work goes on."""
    job = claimed.job
    lines: list[dict[str, Any]] = []
    counts = {"created": 0, "repeated": 0, "refused": 0}
    renew_every = lease.total_seconds() / 3
    renewed = time.monotonic()
    if claimed.attempts > MAX_ATTEMPTS:
        for item in claimed.items:
            lines.append(outcome_line(Outcome(int(item[0]), problem=dict(INTERNAL_ERROR))))
        counts["refused"] = len(lines)
        return lines, counts
    outcomes = issue_many(
        instance,
        _records(claimed.items),
        principal=_principal(job),
        mapping=job.mapping,
        proof_format=job.proof_format,
        idempotency_key=lambda number: f"job:{job.id}#{number}",
    )
    for outcome in outcomes:
        lines.append(outcome_line(outcome))
        counts[outcome.outcome] += 1
        if time.monotonic() - renewed > renew_every:
            with instance.db.transaction() as session:
                if not Jobs(session).renew(claimed.id, owner, lease):
                    log.warning(
                        "job %s chunk %d: lease lost, left to its new holder", *_where(claimed)
                    )
                    break
            renewed = time.monotonic()
    return lines, counts


def work_one(instance: Instance, owner: str) -> bool:
    """Claim one chunk, issue its records and record their outcomes.

    :returns: ``False`` when no chunk was waiting.
    """
    lease = timedelta(seconds=instance.settings.job_lease_seconds)
    with instance.db.reading() as session:
        if not Jobs(session).waiting():
            return False
    with instance.db.transaction() as session:
        claimed = Jobs(session).claim(owner, lease)
    if claimed is None:
        return False
    lines, counts = _issue_chunk(instance, claimed, owner, lease)
    if len(lines) != len(claimed.items):
        return True  # the lease was lost: the chunk's new holder records it
    with instance.db.transaction() as session:
        done = Jobs(session).complete(
            claimed, owner, lines, counts, failed=claimed.attempts > MAX_ATTEMPTS
        )
    if not done:
        log.warning("job %s chunk %d: lease lost, left to its new holder", *_where(claimed))
    return True


def _where(claimed: ClaimedChunk) -> tuple[str, int]:
    return claimed.job.id, claimed.seq


def work(
    instance: Instance,
    *,
    stop: threading.Event,
    owner: str | None = None,
    poll: float = 1.0,
    until_idle: bool = False,
) -> int:
    """Work chunks until ``stop`` is set (the chunk in hand is finished first), or, with
    ``until_idle``, until none is waiting.

    A failure of the database or of one chunk is logged and waited out, never the end
    of the worker: the chunk's lease runs out and it is taken up again.

    :param poll: seconds to wait when no chunk is waiting.
    :returns: how many chunks this worker finished.
    """
    owner = owner or worker_name()
    finished = 0
    swept: float | None = None  # swept at once, then every hour
    while not stop.is_set():
        try:
            if swept is None or time.monotonic() - swept > STALE_UPLOAD.total_seconds() / 6:
                swept = time.monotonic()
                kept = timedelta(days=instance.settings.job_retention_days)
                with instance.db.transaction() as session:
                    Jobs(session).discard_stale(utcnow() - STALE_UPLOAD)
                    Jobs(session).discard_finished(utcnow() - kept)
            if work_one(instance, owner):
                finished += 1
                continue
        except GatewayError as exc:
            log.warning("job worker %s: %s", owner, exc)
        except Exception:
            log.exception("job worker %s: a chunk failed; its lease will run out", owner)
        if until_idle:
            break
        stop.wait(poll)
    return finished


def start_worker_thread(instance: Instance, stop: threading.Event) -> threading.Thread:
    """Run :func:`work` in a daemon thread of this process (the embedded default:
    ``gateway serve`` completes jobs with no other command)."""
    thread = threading.Thread(
        target=work, args=(instance,), kwargs={"stop": stop}, name="job-worker", daemon=True
    )
    thread.start()
    return thread
