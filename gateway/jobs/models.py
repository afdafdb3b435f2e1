"""The jobs table: the source of truth for what users see of their background work.

Engines (procrastinate on PostgreSQL, the in-process runner on SQLite) only decide *when*
a job runs; its status, progress, result and errors live here, in the gateway's database.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, str_enum, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(Base):
    """One background job. ``tenant_id``/``user_id`` are NULL only for periodic system runs."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_tenant_id_user_id", "tenant_id", "user_id"),
        Index("ix_jobs_status_run_after", "status", "run_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus), default=JobStatus.QUEUED)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    #: ``{"counts": {name: value}}``; a file the job produced is ``result_file_id``.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_file_id: Mapped[int | None] = mapped_column(Integer)
    #: ``[{"code", "message", "row", "column"}]``: why it failed, or rows it refused.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Who holds the running job: ``host:pid:random``. Every write of a running job checks
    #: it, so a runner that lost the job (killed, presumed dead) cannot finish it twice.
    claim: Mapped[str | None] = mapped_column(String(120))
    #: ``<kind>@<tick>`` of a periodic run (unique: one run per tick however many workers).
    periodic_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def periodic_tick(kind: str, max_attempts: int, at: datetime) -> Job:
    """The job of a periodic kind's tick at ``at``: no user, and a ``periodic_key`` that is
    unique, so each tick is queued once however many runners or workers notice it."""
    return Job(
        kind=kind,
        params={},
        periodic_key=f"{kind}@{at.isoformat()}",
        status=JobStatus.QUEUED,
        max_attempts=max_attempts,
        run_after=at,
        errors=[],
    )
