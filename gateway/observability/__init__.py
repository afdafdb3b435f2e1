"""Operations: Prometheus metrics, OpenTelemetry traces, JSON logs, request ids.

Everything is off by default and costs nothing then but the request id (one ASGI layer):
``CRM_METRICS_TOKEN`` switches metrics on (``/metrics``), ``CRM_TRACING=1`` traces,
``CRM_LOG_FORMAT=json`` structured logs. See README "Operations" and docs/architecture.md.

* :mod:`.observation` — what one request or job did (a context variable)
* :mod:`.middleware` — the ASGI layer: request id, timing, and the request's record
* :mod:`.statements` — the engine listener counting (and tracing) SQL statements
* :mod:`.metrics`, :mod:`.scrape` — Prometheus metrics and the ``/metrics`` endpoints
* :mod:`.tracing` — OpenTelemetry spans; :mod:`.logs` — JSON logs
* :mod:`.features` — which of them a gateway has on
"""
