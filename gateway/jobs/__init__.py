"""Background jobs (MISSION M9): kinds registered by modules, state in the ``jobs`` table,
run as the user who started them, in one transaction, on procrastinate (PostgreSQL) or an
in-process runner (SQLite). See docs/architecture.md, "Jobs".

Modules use :func:`defer_job` (exported by ``gateway.sdk``) and the types below.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gateway.jobs.handle import (
    JobCancelled,
    JobError,
    JobFailed,
    JobHandle,
    JobResult,
    TransientJobError,
)
from gateway.jobs.models import Job, JobStatus
from gateway.jobs.service import VIEW_ALL, cancel_job, defer_job, get_job, visible_jobs

if TYPE_CHECKING:
    from gateway.app import Gateway

__all__ = [
    "VIEW_ALL",
    "Job",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobHandle",
    "JobResult",
    "JobStatus",
    "TransientJobError",
    "cancel_job",
    "defer_job",
    "get_job",
    "run_pending",
    "visible_jobs",
]


def run_pending(gateway: Gateway, now: datetime | None = None) -> None:
    """Run every job that is due, then return: the deterministic way tests (and scripts)
    drain the queue. SQLite: the in-process runner's loop, once (periodic ticks included).
    PostgreSQL: a real procrastinate worker that stops when the queue is empty."""
    if gateway.db.is_sqlite:
        from gateway.jobs.runner import run_due

        run_due(gateway, now)
    else:
        from gateway.jobs.engine import WorkerOptions, run_worker

        run_worker(gateway, WorkerOptions(wait=False))
