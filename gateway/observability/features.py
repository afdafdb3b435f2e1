"""Which observation features a gateway has on, and the records they make at the end of a
request or a job run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.observability import statements
from gateway.observability.observation import CURRENT, Observation, operation_label, safe_name

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.db import Database

#: How a job run ended, by the status ``gateway.jobs.execute`` returns.
_JOB_OUTCOME = {
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "queued": "retried",
}


@dataclass
class RequestEnd:
    """What the middleware knows once the response went out."""

    method: str
    route: str
    status: int
    seconds: float


@dataclass
class Observability:
    """The features a gateway has on (from its settings) and what they record.

    ``tracer_provider``: an OpenTelemetry tracer provider to use instead of the one
    ``CRM_TRACING=1`` builds from the ``OTEL_*`` variables (tests pass the SDK's, with an
    in-memory exporter). Passing one switches tracing on.
    """

    settings: Settings
    tracer_provider: Any = None
    metrics: bool = field(init=False)
    request_log: bool = field(init=False)
    tracer: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.metrics = self.settings.metrics_token is not None
        self.request_log = self.settings.log_format == "json"
        if self.tracer_provider is None and self.settings.tracing:
            from gateway.observability.tracing import provider_from_env

            self.tracer_provider = provider_from_env()
        if self.tracer_provider is not None:
            from gateway.observability.tracing import tracer

            self.tracer = tracer(self.tracer_provider)

    @property
    def active(self) -> bool:
        """Whether requests and jobs are observed at all."""
        return self.metrics or self.request_log or self.tracer is not None

    def install(self, db: Database) -> None:
        if self.active:
            statements.install(db.engine)

    def flush(self) -> None:
        """Export the spans still buffered (at shutdown)."""
        flush = getattr(self.tracer_provider, "force_flush", None)
        if flush is not None:
            flush()

    def end_request(self, watch: Observation, end: RequestEnd, span: Any) -> None:
        """The request's metrics, log line and span, from what it noted while it ran."""
        name, kind = watch.operation()
        graphql = end.route == "/graphql"
        outcome = watch.outcome or ("ok" if end.status < 400 else f"HTTP_{end.status}")
        if self.metrics:
            from gateway.observability import metrics

            label = operation_label(name) if graphql else ""
            metrics.observe_request(end.route, label, outcome, end.seconds, watch.statements)
        if self.request_log:
            from gateway.observability.logs import request_line

            request_line(
                request_id=watch.request_id,
                method=end.method,
                route=end.route,
                status=end.status,
                operation=safe_name(name) if graphql else None,
                operation_type=kind,
                outcome=outcome,
                tenant_id=watch.tenant_id,
                duration_ms=round(end.seconds * 1000, 3),
                statements=watch.statements,
            )
        if span is not None:
            from gateway.observability.tracing import finish

            title = f"{kind} {safe_name(name) or 'anonymous'}" if kind else None
            finish(
                span,
                title or f"{end.method} {end.route}",
                None if outcome == "ok" else outcome,
                {
                    "http.route": end.route,
                    "http.response.status_code": end.status,
                    "graphql.operation.name": safe_name(name) if kind else None,
                    "graphql.operation.type": kind,
                    "crm.tenant.id": watch.tenant_id,
                    "crm.outcome": outcome,
                    "crm.statements": watch.statements,
                },
            )

    @contextmanager
    def job_run(self, job_id: int) -> Iterator[JobWatch]:
        """Observe one job run (``gateway.jobs.execute``): its statements and SQL spans
        while it runs, then its metrics and span by kind and outcome."""
        watch = JobWatch(Observation(f"job-{job_id}", tracer=self.tracer, job_id=job_id))
        span = None
        if self.tracer is not None:
            from gateway.observability.tracing import start_span

            span = start_span(self.tracer, "job", job=True, **{"crm.job.id": job_id})
        token = CURRENT.set(watch.observation)
        started = time.perf_counter()
        try:
            yield watch
        except BaseException:
            watch.raised = True
            raise
        finally:
            CURRENT.reset(token)
            self._end_job(watch, time.perf_counter() - started, span)

    def _end_job(self, watch: JobWatch, seconds: float, span: Any) -> None:
        kind = watch.observation.job_kind
        outcome = _JOB_OUTCOME.get(watch.status or "", "lost" if kind else "not run")
        if watch.raised:
            outcome = "error"
        if self.metrics and kind is not None:
            from gateway.observability import metrics

            metrics.observe_job(kind, outcome, seconds)
        if span is not None:
            from gateway.observability.tracing import finish

            finish(
                span,
                f"job {kind or '-'}",
                outcome if outcome in ("failed", "error") else None,
                {
                    "crm.job.kind": kind,
                    "crm.tenant.id": watch.observation.tenant_id,
                    "crm.outcome": outcome,
                    "crm.statements": watch.observation.statements,
                },
            )


@dataclass
class JobWatch:
    """A job run being observed: the runner sets ``status`` (or ``raised``)."""

    observation: Observation
    status: str | None = None
    raised: bool = False
