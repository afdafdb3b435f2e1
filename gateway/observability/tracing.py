"""OpenTelemetry traces (``CRM_TRACING=1``; off by default, and then never imported).

Spans: one per HTTP request but the probes (named after the GraphQL operation, e.g.
``query Contacts``), one per job run (``job contacts.import``), and a client span per SQL
statement inside either. Attributes name the operation, the tenant *id*, the outcome and
the request id — never names, emails, variables or statement parameters.

The exporter is configured by the standard variables: ``OTEL_TRACES_EXPORTER`` (``otlp``,
the default, ``console`` or ``none``), ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf``;
``grpc`` needs ``opentelemetry-exporter-otlp-proto-grpc``), ``OTEL_SERVICE_NAME``
(default ``crm-gateway``), ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_BSP_*``. A tracer provider installed before (``opentelemetry-instrument``) is used
as it is.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider

SCOPE = "crm-gateway"


def provider_from_env() -> TracerProvider:
    """The process's tracer provider: an existing SDK one, else one built from OTEL_*."""
    existing = trace.get_tracer_provider()
    if not isinstance(existing, trace.ProxyTracerProvider):
        return existing
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SCOPE}))
    provider = SdkProvider(resource=resource)
    for exporter in _exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _exporters() -> list[Any]:
    """``OTEL_TRACES_EXPORTER``'s exporters, found by their entry points as the SDK does."""
    names = [
        n.strip()
        for n in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")
        if n.strip() and n.strip() != "none"
    ]
    available = {ep.name: ep for ep in entry_points(group="opentelemetry_traces_exporter")}
    exporters = []
    for name in names:
        if name == "otlp":
            protocol = os.environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            )
            name = "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
        if name not in available:
            raise ValueError(
                f"OTEL_TRACES_EXPORTER: no exporter {name!r} is installed "
                f"(installed: {', '.join(sorted(available)) or 'none'})"
            )
        exporters.append(available[name].load()())
    return exporters


def tracer(provider: TracerProvider) -> Tracer:
    return provider.get_tracer(SCOPE)


def sql_span(tracer: Tracer, system: str, statement: str, executemany: bool) -> Any:
    """A client span for one statement, child of the current (request or job) span."""
    from gateway.observability.statements import MAX_STATEMENT_CHARS

    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    return tracer.start_span(
        f"{operation} {system}",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": system,
            "db.operation.name": operation,
            "db.query.text": statement[:MAX_STATEMENT_CHARS],
            "db.operation.batch": executemany,
        },
    )


def fail(span: Any, exc: BaseException) -> None:
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
    span.set_attribute("error.type", type(exc).__qualname__)


def extract(headers: list[tuple[bytes, bytes]]) -> Any:
    """The caller's trace context (``traceparent``…), if it sent one."""
    from opentelemetry import propagate

    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
    return propagate.extract(carrier)


def start_span(
    tracer: Tracer, name: str, parent: Any = None, *, job: bool = False, **attributes: Any
) -> Any:
    """A request's (or a job's) span made current until :func:`finish`: ``(span, token)``."""
    from opentelemetry import context

    kind = SpanKind.CONSUMER if job else SpanKind.SERVER
    span = tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
    token = context.attach(trace.set_span_in_context(span, parent))
    return span, token


def finish(
    started: tuple[Any, Any], name: str, error: str | None, attributes: dict[str, Any]
) -> None:
    """Name the span :func:`start_span` began after what it turned out to be, record its
    outcome, end it."""
    from opentelemetry import context

    span, token = started
    context.detach(token)
    span.update_name(name)
    span.set_attributes({k: v for k, v in attributes.items() if v is not None})
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, error))
    span.end()
