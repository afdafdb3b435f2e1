"""The in-process runner for SQLite (single machine): a thread of ``serve`` (or of
``crm-gateway worker``) that claims due jobs from the jobs table and runs them.

Claiming is an atomic ``UPDATE … WHERE status = 'queued'`` (``execute._claim``, under
SQLite's write lock), so several processes on one machine never run a job twice. At
start-up, a job left ``running`` by a process that no longer exists (same host, dead pid)
is queued again if it has attempts left, else failed cleanly. Never used on PostgreSQL:
there, jobs run on procrastinate workers (``gateway.jobs.engine``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.jobs.execute import _tell, execute
from gateway.jobs.handle import LIVE, JobError
from gateway.jobs.models import Job, JobStatus, periodic_tick
from gateway.jobs.queue import WAKE

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("gateway.jobs")


def _requeue(_session: Session, _job_id: int, _run_at: Any) -> None:
    WAKE.set()


def _alive(claim: str | None) -> bool:
    """Whether the process named in a claim token still runs (same host only)."""
    host, _, rest = (claim or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:60] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # at start-up, nothing of ours is running yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(gateway: Gateway) -> list[int]:
    """Jobs left ``running`` by dead processes: queued again, or failed when their attempts
    are used up. Returns their ids."""
    recovered = []
    with gateway.db.transaction() as session:
        running = session.scalars(select(Job).where(Job.status == JobStatus.RUNNING)).all()
        for job in running:
            if job.id in LIVE or _alive(job.claim):
                continue
            recovered.append(job.id)
            error = JobError("INTERRUPTED", "the process running it stopped")
            job.claim = None
            job.errors = [error.as_dict()]
            if job.attempts < job.max_attempts:
                job.status = JobStatus.QUEUED
                job.progress_done = 0
            else:
                job.status = JobStatus.FAILED
                job.finished_at = utcnow()
                snapshot = {
                    "id": job.id,
                    "kind": job.kind,
                    "user_id": job.user_id,
                    "tenant_id": job.tenant_id,
                }
                _tell(session, snapshot, JobStatus.FAILED, gateway.registry.job_kinds.get(job.kind))
    return recovered


def tick_periodic(gateway: Gateway, now: datetime | None = None) -> list[int]:
    """Queue the latest due tick of every periodic kind once (``periodic_key`` is unique,
    so several processes, or a restart, never queue a tick twice)."""
    from croniter import croniter

    now = now or utcnow()
    queued = []
    for kind in gateway.registry.job_kinds.values():
        if kind.schedule is None:
            continue
        tick = croniter(kind.schedule, now + timedelta(seconds=1)).get_prev(datetime)
        job = periodic_tick(kind.name, kind.max_attempts, tick)
        with gateway.db.transaction() as session:
            if session.scalar(select(Job.id).where(Job.periodic_key == job.periodic_key)):
                continue
            try:
                with session.begin_nested():
                    session.add(job)
            except IntegrityError:
                continue
            session.flush()
            queued.append(job.id)
    return queued


def next_due(gateway: Gateway, now: datetime | None = None) -> int | None:
    with gateway.db.reading() as session:
        return session.scalar(
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED, Job.run_after <= (now or utcnow()))
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )


def run_due(gateway: Gateway, now: datetime | None = None) -> list[int]:
    """Run every due job (periodic ticks included) until none is left; their ids."""
    tick_periodic(gateway, now)
    ran: list[int] = []
    seen: set[int] = set()
    while (job_id := next_due(gateway, now)) is not None:
        if job_id in seen and now is not None:
            break  # queued again for "now" by a transient failure with no backoff
        seen.add(job_id)
        if execute(gateway, job_id, requeue=_requeue) is not None:
            ran.append(job_id)
    return ran


class InProcessRunner:
    """The runner thread: recover once, then run due jobs every poll interval (or at once
    when a job is queued in this process)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crm-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the runner thread still runs (``/readyz``)."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        WAKE.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            recover(self.gateway)
        except Exception:
            log.exception("recovering interrupted jobs failed")
        while not self._stop.is_set():
            try:
                run_due(self.gateway)
            except Exception:
                log.exception("the in-process job runner failed; retrying")
            WAKE.wait(self.gateway.settings.job_poll_seconds)
            WAKE.clear()
