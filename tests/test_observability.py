"""Operations, in process and over HTTP (gateway.observability): request ids, Prometheus
metrics at /metrics (token-protected, off by default), OpenTelemetry spans (the SDK's
in-memory exporter) and JSON request lines. Both engines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.jobs import Job, JobStatus, run_pending
from gateway.observability import observation
from gateway.observability.logs import JsonFormatter
from gateway.testing import GraphQLClient

TOKEN = "scrape-me"
START = """mutation($p: String!, $f: String) { startNoteJob(prefix: $p, count: 2,
  kind: "notes.write", fail: $f, transient: 0) { job { id } errors { code } } }"""


@contextmanager
def observed(gateway: Gateway, tracer_provider=None, **settings) -> Iterator[TestClient]:
    """The app of a gateway on the test database with ``settings`` changed."""
    gw = Gateway(
        settings=replace(gateway.settings, **settings),
        db=gateway.db,
        registry=gateway.registry,
        tracer_provider=tracer_provider,
    )
    with TestClient(create_app(gw)) as http:
        http.gateway = gw
        yield http


def scrape(http: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = http.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def sample(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_every_response_has_a_request_id_and_a_well_formed_one_is_kept(app):
    chosen = app.get("/healthz", headers={"x-request-id": "lb-4f2a:77"})
    assert chosen.headers["x-request-id"] == "lb-4f2a:77"
    for bad in ("has spaces", "x" * 129, 'quote"d'):
        r = app.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": bad})
        assert r.headers["x-request-id"] != bad
        assert len(r.headers["x-request-id"]) == 32
    first, second = app.get("/readyz"), app.get("/readyz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_metrics_are_off_by_default_and_need_the_token(app, gateway):
    assert app.get("/metrics").status_code == 404
    with observed(gateway, metrics_token=TOKEN) as http:
        assert http.get("/metrics").status_code == 401
        wrong = http.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        assert (
            "crm_requests_total"
            in http.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"}).text
        )


def test_requests_are_counted_by_operation_and_outcome_with_their_statements(
    gateway, demo, sql_log
):
    with observed(gateway, metrics_token=TOKEN) as http:
        rep = GraphQLClient(http).login("rep1@demo.test")
        before = scrape(http)
        query = "query MetricsMine { contacts(first: 5) { totalCount } }"
        with sql_log:
            assert rep(query).errors == []
            assert rep(query).errors == []
        sent = len(sql_log.statements)
        assert rep("query MetricsBroken { nosuchfield }").codes == ["GRAPHQL_VALIDATION_FAILED"]
        anonymous = GraphQLClient(http)("query MetricsAnon { me { user { email } } }")
        assert anonymous.codes == ["UNAUTHENTICATED"]
        refused = http.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert refused.status_code == 400
        after = scrape(http)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    graphql = {"route": "/graphql"}
    assert delta("crm_requests_total", **graphql, operation="MetricsMine", outcome="ok") == 2
    assert (
        delta(
            "crm_requests_total",
            **graphql,
            operation="MetricsBroken",
            outcome="GRAPHQL_VALIDATION_FAILED",
        )
        == 1
    )
    assert (
        delta("crm_requests_total", **graphql, operation="MetricsAnon", outcome="UNAUTHENTICATED")
        == 1
    )
    assert delta("crm_requests_total", **graphql, operation="anonymous", outcome="BAD_REQUEST") == 1
    mine = {**graphql, "operation": "MetricsMine"}
    assert delta("crm_request_duration_seconds_count", **mine) == 2
    assert delta("crm_request_duration_seconds_sum", **mine) > 0
    # the statements histogram saw exactly what the engine sent (sign-in lookup included)
    assert sent > 0
    assert delta("crm_request_statements_count", **mine) == 2
    assert delta("crm_request_statements_sum", **mine) == sent
    assert delta("crm_requests_total", route="/healthz", operation="", outcome="ok") == 0
    assert delta("crm_requests_total", route="/metrics", operation="", outcome="ok") == 1


def test_operation_names_are_bounded_labels(gateway, demo, monkeypatch):
    monkeypatch.setattr(observation, "MAX_OPERATION_NAMES", len(observation._names) + 1)
    with observed(gateway, metrics_token=TOKEN) as http:
        client = GraphQLClient(http)
        before = scrape(http)
        client("query BoundedFirst { __typename }")
        client("query BoundedSecond { __typename }")
        client("query BoundedFirst { __typename }")
        after = scrape(http)
    seen = {labels for name, labels in after if name == "crm_requests_total"}
    assert ("operation", "BoundedSecond") not in {pair for labels in seen for pair in labels}
    first = (
        "crm_requests_total",
        (("operation", "BoundedFirst"), ("outcome", "ok"), ("route", "/graphql")),
    )
    other = (
        "crm_requests_total",
        (("operation", "other"), ("outcome", "ok"), ("route", "/graphql")),
    )
    assert after[first] - before.get(first, 0) == 2
    assert after[other] - before.get(other, 0) == 1


def test_job_queue_depth_runs_and_failures_by_kind(gateway, demo):
    with observed(gateway, metrics_token=TOKEN) as http:
        rep = GraphQLClient(http).login("rep1@demo.test")
        before = scrape(http)
        for prefix, fail in (("metrics-ok", None), ("metrics-bad", "typed")):
            assert rep(START, {"p": prefix, "f": fail}).data["startNoteJob"]["errors"] == []
        queued = scrape(http)
        assert sample(queued, "crm_jobs", kind="notes.write", status="queued") == 2
        assert sample(queued, "crm_jobs", kind="notes.secret", status="queued") == 0
        run_pending(http.gateway)
        after = scrape(http)
    assert sample(after, "crm_jobs", kind="notes.write", status="queued") == 0

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    # ours, and those the periodic notes.sweep (run by run_pending too) queued for admins
    with gateway.db.reading() as session:
        done = dict(
            session.execute(
                select(Job.status, func.count())
                .where(Job.kind == "notes.write")
                .group_by(Job.status)
            ).all()
        )
    assert done[JobStatus.FAILED] == 1 and done[JobStatus.SUCCEEDED] >= 1
    succeeded = delta("crm_job_runs_total", kind="notes.write", outcome="succeeded")
    assert succeeded == done[JobStatus.SUCCEEDED]
    assert delta("crm_job_runs_total", kind="notes.write", outcome="failed") == 1
    assert delta("crm_job_failures_total", kind="notes.write") == 1
    assert delta("crm_job_duration_seconds_count", kind="notes.write") == succeeded + 1


@pytest.fixture
def spans():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_a_span_per_operation_with_sql_children_and_no_personal_data(gateway, demo, spans):
    from opentelemetry.trace import SpanKind, StatusCode

    provider, exporter = spans
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with observed(gateway, tracer_provider=provider) as http:
        rep = GraphQLClient(http).login("rep1@demo.test")
        exporter.clear()
        r = http.post(
            "/graphql",
            json={
                "query": "query Traced { contacts(first: 5) { edges { node { displayName email } } } }"
            },
            headers={**rep.headers(), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
        assert "errors" not in r.json()
        names = [e["node"]["displayName"] for e in r.json()["data"]["contacts"]["edges"]]
        finished = exporter.get_finished_spans()
        exporter.clear()
        rep("query TracedBroken { nosuchfield }")
        broken = exporter.get_finished_spans()
        exporter.clear()
        http.get("/healthz")
        assert exporter.get_finished_spans() == ()

    (server,) = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server.name == "query Traced"
    assert format(server.context.trace_id, "032x") == trace_id  # the caller's trace continues
    attributes = dict(server.attributes)
    assert attributes["graphql.operation.name"] == "Traced"
    assert attributes["crm.tenant.id"] == demo["demo"].id
    assert attributes["crm.outcome"] == "ok"
    sql = [s for s in finished if s.kind is SpanKind.CLIENT]
    assert len(sql) == attributes["crm.statements"] > 0
    assert all(s.parent.span_id == server.context.span_id for s in sql)
    assert any(s.attributes["db.operation.name"] == "SELECT" for s in sql)
    text = json.dumps([dict(s.attributes) for s in finished], default=str)
    assert names and not any(n in text for n in names)
    assert "@demo.test" not in text and "Bearer" not in text
    (failed,) = [s for s in broken if s.kind is SpanKind.SERVER]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["crm.outcome"] == "GRAPHQL_VALIDATION_FAILED"


def test_a_job_run_is_a_span_with_its_statements(gateway, demo, spans):
    from opentelemetry.trace import SpanKind

    provider, exporter = spans
    with observed(gateway, tracer_provider=provider) as http:
        rep = GraphQLClient(http).login("rep1@demo.test")
        assert rep(START, {"p": "traced-job", "f": None}).data["startNoteJob"]["errors"] == []
        exporter.clear()
        run_pending(http.gateway)
    finished = exporter.get_finished_spans()
    with gateway.db.reading() as session:
        rep1 = demo["demo"].users["rep1@demo.test"].id
        (job_id,) = session.scalars(select(Job.id).where(Job.user_id == rep1)).all()
    (job,) = [s for s in finished if s.attributes.get("crm.job.id") == job_id]
    assert job.name == "job notes.write"
    assert job.kind is SpanKind.CONSUMER
    assert job.attributes["crm.outcome"] == "succeeded"
    assert job.attributes["crm.tenant.id"] == demo["demo"].id
    children = [
        s for s in finished if s.parent is not None and s.parent.span_id == job.context.span_id
    ]
    assert children and all(s.kind is SpanKind.CLIENT for s in children)
    assert any("INSERT" in s.name for s in children)


def test_json_request_lines_carry_ids_and_figures_never_secrets(gateway, demo, caplog):
    formatter = JsonFormatter()
    with (
        observed(gateway, log_format="json") as http,
        caplog.at_level(logging.INFO, logger="gateway.requests"),
    ):
        login = http.post(
            "/graphql",
            json={
                "query": "mutation SignIn($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                "variables": {"e": "rep1@demo.test", "p": "demo-password"},
            },
            headers={"x-request-id": "req-login-1"},
        )
        token = login.json()["data"]["login"]["token"]
        listed = http.post(
            "/graphql",
            json={
                "query": "query Listed { contacts(first: 3) { edges { node { displayName } } } }"
            },
            headers={"authorization": f"Bearer {token}"},
        )
        http.get(f"/files/123?sig={token}")
    lines = [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "gateway.requests"
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    assert "demo-password" not in text and token not in text and "rep1@demo.test" not in text
    for name in (e["node"]["displayName"] for e in listed.json()["data"]["contacts"]["edges"]):
        assert name not in text
    by_operation = {line.get("operation"): line for line in lines}
    sign_in = by_operation["SignIn"]
    assert sign_in["request_id"] == "req-login-1"
    assert sign_in["operation_type"] == "mutation" and sign_in["outcome"] == "ok"
    assert sign_in["level"] == "info" and sign_in["logger"] == "gateway.requests"
    listed_line = by_operation["Listed"]
    assert listed_line["request_id"] == listed.headers["x-request-id"]
    assert listed_line["tenant_id"] == demo["demo"].id
    assert listed_line["status"] == 200 and listed_line["route"] == "/graphql"
    assert listed_line["statements"] > 0 and listed_line["duration_ms"] > 0
    files = [line for line in lines if line["route"] == "/files/{file_id}"]
    assert files and files[0]["status"] >= 400
