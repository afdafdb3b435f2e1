"""Where Prometheus scrapes: ``GET /metrics`` on the app, and a small HTTP server for
``crm-gateway worker --metrics-port``. Both answer only ``Authorization: Bearer
$CRM_METRICS_TOKEN`` (401 otherwise): metrics name job kinds, operation names and
volumes, which are not for everyone who can reach the port."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

if TYPE_CHECKING:
    from gateway.app import Gateway

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


def authorised(token: str, authorization: str | None) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


class MetricsEndpoint:
    """``GET /metrics``: the text exposition (the job queue counted in a worker thread)."""

    def __init__(self, gateway: Gateway) -> None:
        from gateway.observability.metrics import JobQueue

        assert gateway.settings.metrics_token is not None, "metrics are off"
        self.token = gateway.settings.metrics_token
        self.jobs = JobQueue(gateway.db, gateway.registry)

    async def endpoint(self, request: Request) -> Response:
        if not authorised(self.token, request.headers.get("authorization")):
            return PlainTextResponse("a metrics token is required\n", 401, _CHALLENGE)
        from gateway.observability.metrics import exposition

        body = await anyio.to_thread.run_sync(exposition, self.jobs)
        return Response(body, media_type=CONTENT_TYPE)


def serve_worker_metrics(gateway: Gateway, host: str, port: int) -> Any:
    """Serve ``/metrics`` for ``crm-gateway worker`` on ``host:port`` in a daemon thread
    (prometheus-client's WSGI server); returns the server (``shutdown()`` to stop)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client.exposition import ThreadingWSGIServer

    from gateway.observability.metrics import JobQueue, exposition

    token = gateway.settings.metrics_token
    assert token is not None, "metrics are off"
    jobs = JobQueue(gateway.db, gateway.registry)

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not authorised(token, environ.get("HTTP_AUTHORIZATION")):
            start("401 Unauthorized", [("Content-Type", "text/plain"), *_CHALLENGE.items()])
            return [b"a metrics token is required\n"]
        start("200 OK", [("Content-Type", CONTENT_TYPE)])
        return [exposition(jobs)]

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes are not news."""

    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, name="crm-metrics", daemon=True).start()
    return server
