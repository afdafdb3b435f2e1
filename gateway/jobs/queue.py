"""Handing a queued job to the engine, in the transaction that queued it.

PostgreSQL: a procrastinate job (task ``crm.run_job``, our job id as its argument) is
inserted with procrastinate's own ``procrastinate_defer_jobs_v1`` function on the *same*
SQLAlchemy connection, so it commits or rolls back with the data that triggered it — no
second connection, no job for rows that were never committed. SQLite: the in-process
runner polls the jobs table; queuing wakes it up.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

#: procrastinate's queue and task carrying our jobs.
QUEUE = "crm"
TASK = "crm.run_job"

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), 0, NULL, NULL, "
    "CAST(:args AS jsonb), CAST(:at AS timestamptz)"
    ")::procrastinate_job_to_defer_v1]))"
)

#: Set when a job is queued on SQLite: the in-process runner looks at once.
WAKE = threading.Event()


def enqueue(session: Session, job_id: int, run_at: datetime | None) -> None:
    """Have the engine run job ``job_id`` (not before ``run_at``) once ``session`` commits."""
    if session.get_bind().dialect.name == "postgresql":
        args = json.dumps({"job_id": job_id})
        session.execute(_DEFER, {"queue": QUEUE, "task": TASK, "args": args, "at": run_at})
    else:
        WAKE.set()
