"""The outermost ASGI layer: every HTTP request gets its id (``X-Request-ID``: the
client's or proxy's when well formed, else a new one; echoed in the response), and, when
any observation feature is on, an :class:`Observation` for its duration, then its metrics,
log line and span."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.features import RequestEnd
from gateway.observability.observation import CURRENT, Observation, request_id_from

if TYPE_CHECKING:
    from gateway.observability.features import Observability

#: The scope key holding the request id (read by the GraphQL endpoint).
REQUEST_ID = "crm_request_id"
#: Routes polled by orchestrators and scrapers: counted, but never traced.
UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})


class ObserveRequests:
    def __init__(self, app: ASGIApp, observability: Observability) -> None:
        self.app = app
        self.observability = observability

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        scope[REQUEST_ID] = request_id
        header = (b"x-request-id", request_id.encode())
        obs = self.observability
        if not obs.active:

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", ()), header]}
                await send(message)

            await self.app(scope, receive, send_with_id)
            return

        status = 500
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        watch = Observation(request_id, tracer=obs.tracer)
        span: Any = None
        if obs.tracer is not None and scope["path"] not in UNTRACED:
            from gateway.observability import tracing

            span = tracing.start_span(
                obs.tracer,
                scope["method"],
                tracing.extract(scope["headers"]),
                **{"http.request.method": scope["method"], "crm.request.id": request_id},
            )
        token = CURRENT.set(watch)
        try:
            await self.app(scope, receive, send_observed)
        finally:
            CURRENT.reset(token)
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            end = RequestEnd(scope["method"], route, status, time.perf_counter() - started)
            obs.end_request(watch, end, span)
