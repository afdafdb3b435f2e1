"""Run one job, whichever engine delivered it: claim, work in one transaction, finish.

::

    claim        short transaction: queued → running, attempts + 1, a fresh claim token
    work         ONE transaction of the starting user's CallerContext (kind.run); the
                 success row (status, result, notification) is written in that same
                 transaction, guarded by the claim: the work and "succeeded" commit together
    otherwise    the work rolled back; a short transaction records cancelled / failed /
                 queued-again-after-backoff (transient), guarded by the claim

A runner that lost its claim (presumed dead, the job handed to another) can neither write
progress nor finish: its work rolls back.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from gateway.context import CallerContext, Via
from gateway.errors import Busy, GatewayError, ModuleDisabled, NotFound
from gateway.graphql.common import global_id
from gateway.jobs.handle import (
    JobCancelled,
    JobError,
    JobFailed,
    JobHandle,
    JobLost,
    JobResult,
    TransientJobError,
)
from gateway.jobs.models import Job, JobStatus
from gateway.notifications import notify
from gateway.observability.observation import current as observed

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.contract import JobKind

log = logging.getLogger("gateway.jobs")

#: Called in the transaction that queues a job again (PostgreSQL: defer a procrastinate job).
Requeue = Callable[[Session, int, Any], None]


def new_claim() -> str:
    """``host:pid:random``: the SQLite runner tells a dead runner's jobs by host and pid."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def execute(
    gateway: Gateway, job_id: int, *, requeue: Requeue, reclaim: bool = False
) -> JobStatus | None:
    """Claim job ``job_id`` and run it; its status afterwards (``None``: not ours to run).

    :param reclaim: the engine vouches that no one else runs it (procrastinate delivered
        it, possibly again after its worker died): a ``running`` row is taken over.
    """
    observability = gateway.observability
    if not observability.active:
        return _execute(gateway, job_id, requeue, reclaim)
    with observability.job_run(job_id) as watch:  # metrics and span by kind and outcome
        status = _execute(gateway, job_id, requeue, reclaim)
        watch.status = status.value if status is not None else None
    return status


def _execute(gateway: Gateway, job_id: int, requeue: Requeue, reclaim: bool) -> JobStatus | None:
    claimed = _claim(gateway, job_id, reclaim)
    if claimed is None:
        return None
    if isinstance(claimed, JobStatus):
        return claimed
    token, attempt, job = claimed
    watch = observed()
    if watch is not None:
        watch.job_kind, watch.tenant_id = job["kind"], job["tenant_id"]
    kind = gateway.registry.job_kinds.get(job["kind"])
    handle = JobHandle(
        gateway,
        job_id,
        token,
        attempt,
        live=gateway.db.is_sqlite,
        scheduled_for=job.get("run_after"),
    )
    ctx: CallerContext | None = None
    try:
        if kind is None:
            raise NotFound(f"no installed module runs jobs of kind {job['kind']!r}")
        ctx = _context(gateway, kind, job["user_id"])
        with ctx.transaction() as session:
            result = JobResult.of(kind.run(ctx, handle, job["params"]))
            _succeed(session, job, handle, result, kind)
        return JobStatus.SUCCEEDED
    except JobLost:
        log.warning("job %s: another runner took it over; this run rolled back", job_id)
        return None
    except JobCancelled:
        return _end(gateway, job, token, JobStatus.CANCELLED, [], kind)
    except JobFailed as exc:
        return _end(gateway, job, token, JobStatus.FAILED, exc.errors, kind)
    except (TransientJobError, OperationalError, Busy) as exc:  # Busy: SQLite was locked
        return _transient(gateway, job, token, attempt, kind, exc, requeue)
    except GatewayError as exc:
        error = JobError(exc.code.value, exc.message, column=exc.field)
        return _end(gateway, job, token, JobStatus.FAILED, [error], kind)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            return _transient(gateway, job, token, attempt, kind, exc, requeue)
        log.exception("job %s (%s) failed", job_id, job["kind"])
        return _end(gateway, job, token, JobStatus.FAILED, [_internal()], kind)
    except Exception:
        log.exception("job %s (%s) failed", job_id, job["kind"])
        return _end(gateway, job, token, JobStatus.FAILED, [_internal()], kind)
    finally:
        handle.close()
        if ctx is not None:
            ctx.close()


def _internal() -> JobError:
    return JobError("INTERNAL", "the job failed unexpectedly; the error was logged")


def _claim(
    gateway: Gateway, job_id: int, reclaim: bool
) -> tuple[str, int, dict[str, Any]] | JobStatus | None:
    """queued (or, when reclaiming, running) → running under a new claim token."""
    token = new_claim()
    with gateway.db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            return None
        runnable = {JobStatus.QUEUED} | ({JobStatus.RUNNING} if reclaim else set())
        if job.status not in runnable:
            return job.status if job.status != JobStatus.RUNNING else None
        snapshot = {
            "id": job.id,
            "kind": job.kind,
            "params": job.params,
            "user_id": job.user_id,
            "tenant_id": job.tenant_id,
            "run_after": job.run_after,
        }
        if job.cancel_requested:
            _close(session, job, JobStatus.CANCELLED, [])
            _tell(session, snapshot, JobStatus.CANCELLED, gateway.registry.job_kinds.get(job.kind))
            return JobStatus.CANCELLED
        if job.attempts >= job.max_attempts:  # its runner died during the last attempt
            errors = [JobError("INTERRUPTED", "the worker running it stopped")]
            _close(session, job, JobStatus.FAILED, errors)
            _tell(session, snapshot, JobStatus.FAILED, gateway.registry.job_kinds.get(job.kind))
            return JobStatus.FAILED
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.claim = token
        job.started_at = job.started_at or _now()
        return token, job.attempts, snapshot


def _context(gateway: Gateway, kind: JobKind, user_id: int | None) -> CallerContext:
    """The starting user's context (their visibility, field rules and permissions); for a
    periodic system run, a context without a caller whose session is a system session."""
    module = gateway.registry.job_kind_module[kind.name]
    if user_id is None:
        modules = frozenset(gateway.registry.plugins)
        return CallerContext(
            gateway=gateway, caller=None, enabled_modules=modules, write=True, via=Via.JOB
        )
    ctx = CallerContext.acting_for(gateway, user_id, via=Via.JOB)
    if module not in ctx.enabled_modules:
        raise ModuleDisabled(f"the module {module!r} is switched off", module=module)
    if kind.permission is not None:
        ctx.require(kind.permission)
    return ctx


def _now() -> Any:
    from gateway.db import utcnow

    return utcnow()


def _succeed(
    session: Session, job: dict[str, Any], handle: JobHandle, result: JobResult, kind: JobKind
) -> None:
    """Written in the work's own transaction: the work and its "succeeded" commit together."""
    done = session.execute(
        update(Job)
        .where(Job.id == job["id"], Job.claim == handle.claim, Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.SUCCEEDED,
            progress_done=handle.done,
            progress_total=handle.total,
            result={"counts": result.counts},
            result_file_id=result.file_id,
            errors=[e.as_dict() for e in result.errors],
            finished_at=_now(),
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 0):
        raise JobLost
    _tell(session, job, JobStatus.SUCCEEDED, kind)


def _close(session: Session, job: Job, status: JobStatus, errors: list[JobError]) -> None:
    job.status = status
    job.errors = [e.as_dict() for e in errors]
    job.finished_at = _now()


def _end(
    gateway: Gateway,
    job: dict[str, Any],
    token: str,
    status: JobStatus,
    errors: list[JobError],
    kind: JobKind | None,
) -> JobStatus | None:
    """After the work rolled back: record how it ended, if this runner still holds it."""
    with gateway.db.transaction() as session:
        done = session.execute(
            update(Job)
            .where(Job.id == job["id"], Job.claim == token, Job.status == JobStatus.RUNNING)
            .values(status=status, errors=[e.as_dict() for e in errors], finished_at=_now())
            .execution_options(synchronize_session=False)
        )
        if not getattr(done, "rowcount", 0):
            return None
        _tell(session, job, status, kind)
    return status


def _transient(
    gateway: Gateway,
    job: dict[str, Any],
    token: str,
    attempt: int,
    kind: JobKind | None,
    exc: BaseException,
    requeue: Requeue,
) -> JobStatus | None:
    """Queue it again after the kind's backoff, or fail it once attempts are used up."""
    log.warning(
        "job %s (%s), attempt %s: transient failure: %r", job["id"], job["kind"], attempt, exc
    )
    error = JobError("UNAVAILABLE", "a temporary failure interrupted the job")
    if kind is None or attempt >= _max_attempts(gateway, job["id"]):
        return _end(gateway, job, token, JobStatus.FAILED, [error], kind)
    run_after = _now() + timedelta(seconds=kind.backoff(attempt))
    with gateway.db.transaction() as session:
        done = session.execute(
            update(Job)
            .where(Job.id == job["id"], Job.claim == token, Job.status == JobStatus.RUNNING)
            .values(
                status=JobStatus.QUEUED,
                claim=None,
                run_after=run_after,
                errors=[error.as_dict()],
                progress_done=0,
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(done, "rowcount", 0):
            return None
        requeue(session, job["id"], run_after)
    return JobStatus.QUEUED


def _max_attempts(gateway: Gateway, job_id: int) -> int:
    with gateway.db.reading() as session:
        found = session.get(Job, job_id)
        return found.max_attempts if found is not None else 0


_VERB = {
    JobStatus.SUCCEEDED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "was cancelled",
}


def _tell(session: Session, job: dict[str, Any], status: JobStatus, kind: JobKind | None) -> None:
    """The kernel notification the starting user gets when a job ends."""
    if job["user_id"] is None or job["tenant_id"] is None:
        return
    if kind is not None and kind.quiet and status is not JobStatus.FAILED:
        return
    title = kind.title if kind is not None and kind.title else job["kind"]
    notify(
        session,
        tenant_id=job["tenant_id"],
        user_id=job["user_id"],
        kind=f"job.{status.value}",
        title=f"{title} {_VERB[status]}",
        subject_id=global_id("Job", job["id"]),
    )
