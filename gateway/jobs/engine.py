"""PostgreSQL: jobs run on procrastinate workers (``crm-gateway worker``, any number, any
machine), with no server besides PostgreSQL.

* One procrastinate task, ``crm.run_job``, carries our job id; our ``jobs`` table stays the
  source of truth for what users see. Retries are ours (``execute``): a transient failure
  queues the job again and defers a new procrastinate job for after the backoff.
* Periodic kinds are procrastinate periodic tasks (``crm.periodic.<kind>``); procrastinate
  defers each tick once however many workers run, and the tick's run is keyed by
  ``periodic_key`` in our table as well.
* A worker killed mid-job (SIGKILL, a lost machine) stops sending heartbeats; every worker
  looks for jobs of workers silent for ``stalled_seconds`` and hands them back to
  procrastinate (``JobManager.get_stalled_jobs`` + ``retry_job``). The killed worker's
  transaction died with its connection, so nothing it wrote remains; the job runs again,
  under a new claim, elsewhere.
* The schema is applied by ``crm-gateway db upgrade`` (:func:`apply_schema`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.jobs.execute import execute
from gateway.jobs.models import periodic_tick
from gateway.jobs.queue import QUEUE, TASK, enqueue

if TYPE_CHECKING:
    import procrastinate

    from gateway.app import Gateway
    from gateway.contract import JobKind

log = logging.getLogger("gateway.jobs")


def conninfo(gateway: Gateway) -> str:
    """libpq's URL of the gateway's database (procrastinate connects with psycopg)."""
    url = make_url(gateway.db.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def apply_schema(connection: Connection) -> bool:
    """Create procrastinate's tables and functions unless they exist (idempotent); whether
    it did. Run in the migration transaction of ``crm-gateway db upgrade``."""
    from procrastinate.schema import SchemaManager

    if connection.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None:
        return False
    connection.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    return True


def _requeue(session: Session, job_id: int, run_at: Any) -> None:
    enqueue(session, job_id, run_at)


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs; the defaults suit production, tests shorten the intervals."""

    #: Jobs run at once per worker (each in its own thread and transaction).
    concurrency: int = 1
    #: Seconds between heartbeats, and of silence after which a worker is presumed dead.
    heartbeat_seconds: float = 10.0
    stalled_seconds: float = 30.0
    #: ``False``: stop once the queue is empty (tests, ``run_pending``).
    wait: bool = True
    name: str | None = None


def build_app(gateway: Gateway) -> procrastinate.App:
    """A procrastinate app with the gateway's task and one periodic task per periodic kind."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(gateway)))

    @app.task(name=TASK, queue=QUEUE)
    def run_job(job_id: int) -> None:
        # procrastinate delivers a job once at a time; a second delivery means the first
        # worker was presumed dead, so a "running" row is taken over (reclaim).
        execute(gateway, job_id, requeue=_requeue, reclaim=True)

    del run_job
    for kind in gateway.registry.job_kinds.values():
        if kind.schedule is not None:
            _periodic(app, gateway, kind)
    return app


def _periodic(app: procrastinate.App, gateway: Gateway, kind: JobKind) -> None:
    def tick(timestamp: int) -> None:
        at = datetime.fromtimestamp(timestamp, UTC)
        job_id = _queue_tick(gateway, kind, at)
        if job_id is not None:
            execute(gateway, job_id, requeue=_requeue)

    task = app.task(name=f"crm.periodic.{kind.name}", queue=QUEUE)(tick)
    app.periodic(cron=kind.schedule or "", periodic_id=kind.name)(task)


def _queue_tick(gateway: Gateway, kind: JobKind, at: datetime) -> int | None:
    try:
        with gateway.db.transaction() as session:
            job = periodic_tick(kind.name, kind.max_attempts, at)
            session.add(job)
            session.flush()
            return job.id
    except IntegrityError:
        return None


async def _recover_stalled(app: procrastinate.App, options: WorkerOptions) -> None:
    """Hand jobs of silent workers back to procrastinate, every few seconds."""
    from procrastinate import exceptions

    interval = max(options.heartbeat_seconds, 0.5)
    while True:
        await asyncio.sleep(interval)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=options.stalled_seconds
            )
            for job in stalled:
                try:
                    await app.job_manager.retry_job(job)
                    log.warning("job %s of a silent worker handed back for a retry", job.id)
                except exceptions.ConnectorException:
                    pass  # another worker retried it first
        except Exception:
            log.exception("looking for stalled jobs failed")


async def run_worker_async(gateway: Gateway, options: WorkerOptions) -> None:
    app = build_app(gateway)
    async with app.open_async():
        recovery = asyncio.create_task(_recover_stalled(app, options)) if options.wait else None
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=options.concurrency,
                wait=options.wait,
                name=options.name or "crm-worker",
                install_signal_handlers=options.wait,
                listen_notify=options.wait,
                delete_jobs="successful",
                update_heartbeat_interval=options.heartbeat_seconds,
                stalled_worker_timeout=options.stalled_seconds,
            )
        finally:
            if recovery is not None:
                recovery.cancel()


def run_worker(gateway: Gateway, options: WorkerOptions) -> None:
    """Run a worker in the foreground until stopped (or, ``wait=False``, until idle)."""
    asyncio.run(run_worker_async(gateway, options))
