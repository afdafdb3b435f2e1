"""Prometheus metrics (prometheus-client), collected only when ``CRM_METRICS_TOKEN`` is set.

Imported on first use, so a process whose metrics are off never loads prometheus-client,
and ``PROMETHEUS_MULTIPROC_DIR`` (read by prometheus-client at import) can still be set by
``crm-gateway serve`` before its workers start. With that directory set, every process
writes its samples there and a scrape of any worker adds up all of them (multiprocess
mode); without it, a process reports its own.

Label values are bounded: the route's template (not the path), the GraphQL operation name
(at most :data:`~gateway.observability.observation.MAX_OPERATION_NAMES` per process, then
``other``), an error code, a job kind.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

if TYPE_CHECKING:
    from gateway.db import Database
    from gateway.plugins import PluginRegistry

log = logging.getLogger("gateway.observability")

REQUESTS = Counter(
    "crm_requests",
    "HTTP requests by route, GraphQL operation name and outcome (ok, or an error code).",
    ["route", "operation", "outcome"],
)
DURATION = Histogram(
    "crm_request_duration_seconds",
    "Time from the request's arrival to the end of its response.",
    ["route", "operation"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
STATEMENTS = Histogram(
    "crm_request_statements",
    "SQL statements sent to the database per request (sign-in lookup included).",
    ["route", "operation"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)
JOB_RUNS = Counter(
    "crm_job_runs",
    "Job runs by kind and how they ended: succeeded, failed, cancelled, retried, lost.",
    ["kind", "outcome"],
)
JOB_FAILURES = Counter("crm_job_failures", "Job runs that failed, by kind.", ["kind"])
JOB_DURATION = Histogram(
    "crm_job_duration_seconds",
    "Duration of job runs, by kind.",
    ["kind"],
    buckets=(0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
)


def observe_request(
    route: str, operation: str, outcome: str, seconds: float, statements: int
) -> None:
    REQUESTS.labels(route, operation, outcome).inc()
    DURATION.labels(route, operation).observe(seconds)
    STATEMENTS.labels(route, operation).observe(statements)


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(kind, outcome).inc()
    JOB_DURATION.labels(kind).observe(seconds)
    if outcome == "failed":
        JOB_FAILURES.labels(kind).inc()


class JobQueue(Collector):
    """``crm_jobs{kind, status}``: jobs queued and running now, read from the jobs table at
    scrape time (one grouped count, every tenant; the same whichever process answers)."""

    def __init__(self, db: Database, registry: PluginRegistry) -> None:
        self.db = db
        self.kinds = sorted(registry.job_kinds)

    def collect(self) -> Iterator[Metric]:
        from gateway.jobs.models import Job, JobStatus

        statuses = (JobStatus.QUEUED, JobStatus.RUNNING)
        counts = {(kind, s.value): 0 for kind in self.kinds for s in statuses}
        try:
            with self.db.reader.connect() as connection:
                rows = connection.execute(
                    select(Job.kind, Job.status, func.count())
                    .where(Job.status.in_(statuses))
                    .group_by(Job.kind, Job.status)
                )
                for kind, state, count in rows:
                    counts[(kind, JobStatus(state).value)] = count
        except Exception:
            log.exception("metrics: counting the job queue failed")
            return
        family = GaugeMetricFamily(
            "crm_jobs", "Jobs queued and running, by kind and status.", labels=["kind", "status"]
        )
        for (kind, status), count in sorted(counts.items()):
            family.add_metric([kind, status], count)
        yield family


class _Both(Collector):
    def __init__(self, *sources: Collector) -> None:
        self.sources = sources

    def collect(self) -> Iterable[Metric]:
        for source in self.sources:
            yield from source.collect()


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition(jobs: JobQueue | None) -> bytes:
    """The text exposition of this process's (or, in multiprocess mode, every process's)
    metrics, and the job queue's."""
    source: Collector = REGISTRY
    if multiprocess():
        from prometheus_client import multiprocess as mp

        source = CollectorRegistry()
        mp.MultiProcessCollector(source)  # type: ignore[no-untyped-call]
    return generate_latest(_Both(source, jobs) if jobs is not None else source)
