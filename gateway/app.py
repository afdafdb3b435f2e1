"""The ASGI application: authenticate, pick the tenant's schema and execute, in one worker thread.

::

    every request     ── request id (X-Request-ID), and metrics, trace span and JSON log
                         line when on (gateway/observability/)
                      ── trusted proxies' X-Forwarded-For (CRM_TRUSTED_PROXIES), body limit
    GET /graphql      ── a browser (Accept: text/html, no query): the GraphiQL page (graphiql/)
    POST/GET /graphql ── method, Accept, content type, JSON → GraphQL request (transport.py)
                      └─ the Strawberry view; in ONE worker thread: bearer token → Caller
                         (tenant, profile) + the tenant's modules, then that module set's
                         cached schema executes (graphql/dispatch.py)
    GET /graphiql/assets/{name} ── GraphiQL's files, from the package (no CDN)
    GET /healthz      ── liveness (no database)
    GET /readyz       ── readiness: database, migrations, job engine (health.py)
    GET /metrics      ── Prometheus, with CRM_METRICS_TOKEN only (observability/scrape.py)
    POST /files       ── upload (bearer token + X-CRM-Upload header) → file ID (files/http.py)
    GET /files/{id}   ── download by signed link (no Authorization header needed)
    …                 ── routes plugins contribute with ``crm_http_routes`` (e.g. /forms/{key})
"""

from __future__ import annotations

import gc
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import anyio.to_thread
from cross_web import HTTPException, StarletteRequestAdapter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway import migrate
from gateway.access import enforcement
from gateway.access.fields import field_graph
from gateway.access.narrowing import PlanMemo
from gateway.audit import trail as audit_trail
from gateway.config import Settings
from gateway.db import Database
from gateway.files.http import FileRoutes
from gateway.files.signing import ROUTE as UPLOAD_ROUTE
from gateway.graphiql.assets import ROUTE as GRAPHIQL_ASSETS
from gateway.graphiql.assets import AssetRoute, load_assets
from gateway.graphiql.page import GraphiQLPage
from gateway.graphql.context import RequestContext
from gateway.graphql.dispatch import IdentifyingExecutor, Identity
from gateway.graphql.schema_factory import ANONYMOUS, GatewaySchema, SchemaFactory
from gateway.health import Readiness, healthz
from gateway.identity import services as identity
from gateway.identity.crypto import SecretBox, load_key
from gateway.observability.features import Observability
from gateway.observability.middleware import REQUEST_ID, ObserveRequests
from gateway.observability.observation import current as observed
from gateway.plugins import PluginRegistry, build_registry, builtin_plugins
from gateway.tenancy import services as tenancy
from gateway.transport import (
    GRAPHQL_RESPONSE,
    JSON,
    BodyLimit,
    ClientGone,
    TransportError,
    check_content_type,
    error_response,
    json_response,
    negotiate,
    parse_body,
    parse_query_string,
    refusal_status,
    wants_graphiql,
)

log = logging.getLogger("gateway.app")


@dataclass
class Gateway:
    """Everything one application instance owns: settings, database, plugins, schemas."""

    settings: Settings
    db: Database
    registry: PluginRegistry
    schemas: SchemaFactory = field(init=False)
    #: Which lists to plan from the caller's grants (gateway.access.narrowing).
    plan_memo: PlanMemo = field(init=False)
    #: An OpenTelemetry tracer provider to trace with (tests pass the SDK's); ``None``:
    #: the one ``CRM_TRACING=1`` builds from the OTEL_* variables, or no tracing.
    tracer_provider: Any = None
    #: Metrics, traces and JSON logs, as the settings switch them on.
    observability: Observability = field(init=False)

    def __post_init__(self) -> None:
        self.schemas = SchemaFactory(self.registry, self.settings)
        self.plan_memo = PlanMemo()
        self.observability = Observability(self.settings, self.tracer_provider)
        self.observability.install(self.db)
        enforcement.install(self.db, self.registry)
        audit_trail.install(self.db)

    @cached_property
    def secret_box(self) -> SecretBox:
        """Encrypts TOTP secrets and signs invitation tokens (see Settings.secret_key)."""
        return SecretBox(load_key(self.settings.secret_key, self.settings.data_dir))

    @classmethod
    def create(
        cls, settings: Settings | None = None, registry: PluginRegistry | None = None
    ) -> Gateway:
        settings = settings or Settings.from_env()
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url),
            registry=registry
            or build_registry(
                builtin=(*builtin_plugins(), *settings.plugins),
                entry_points=settings.discover_plugins,
            ),
        )


class _ParsedRequest(StarletteRequestAdapter):
    """Strawberry's request adapter, carrying what the dispatcher already read and checked."""

    @property
    def crm(self) -> dict[str, Any]:
        return self._request.scope["crm"]


class GatewayView(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view; the dispatcher has read and checked the HTTP request
    (``gateway.transport``), the view executes it and answers in the negotiated media type.

    Its "schema" is an :class:`IdentifyingExecutor`: the caller (hence the module set's
    schema) is read from the token in the same worker thread that executes the operation.
    """

    request_adapter_class = _ParsedRequest

    def __init__(self, gateway: Gateway, executor: IdentifyingExecutor) -> None:
        super().__init__(
            cast(GatewaySchema, executor),
            graphql_ide=None,  # the gateway serves its own page (GraphQLEndpoint, graphiql/)
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.gateway = gateway

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        """The request's context; the caller is filled in by the executor (its thread)."""
        state = request.scope["crm"]
        return RequestContext(
            gateway=self.gateway,
            request_id=state["request_id"],
            caller=None,
            enabled_modules=self.gateway.registry.always_on,
            request=request,
            response=response,
            client=(request.headers.get("user-agent") or "")[:200],
            client_address=request.client.host if request.client else "unknown",
            limiter=state.get("limiter"),
        )

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        return request.crm["request"]

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = request.scope["crm"]["media_type"]
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """The result in the negotiated media type. With graphql-response+json, a document
        that was never executed answers 4xx (5xx) without ``data`` (GraphQL over HTTP)."""
        media_type = sub_response.media_type or JSON
        status = sub_response.status_code or 200
        body: Any = response_data
        headers: dict[str, str] = {}
        if media_type == GRAPHQL_RESPONSE and isinstance(response_data, dict):
            refused = refusal_status(response_data)
            if refused is not None:
                body = {k: v for k, v in response_data.items() if k != "data"}
                status = refused
                if refused == 401:
                    headers["WWW-Authenticate"] = "Bearer"
        response = json_response(body, status, media_type, headers)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's refusals (e.g. a mutation over GET) in the GraphQL error shape."""
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = error_response(_refusal(exc), scope["crm"]["media_type"])
        await response(scope, receive, send)


def _refusal(exc: HTTPException) -> TransportError:
    if isinstance(exc.__cause__, InvalidOperationTypeError):
        # GraphQL over HTTP, "GET": 405, with the methods that would work.
        return TransportError(405, f"{exc.reason}: send it with POST", headers={"Allow": "POST"})
    return TransportError(exc.status_code, exc.reason)


#: Net allocations between two collections of the young generation (CPython's default: 700).
GC_YOUNG = 10_000

#: Lifespan state key of the limiter bounding the worker threads of operations.
EXECUTION_LIMITER = "crm_execution_limiter"


class GraphQLEndpoint:
    """Checks the HTTP request, then hands it to the view, which identifies the caller and
    executes in one worker thread (:mod:`gateway.graphql.dispatch`)."""

    def __init__(self, gateway: Gateway, graphiql: GraphiQLPage | None = None) -> None:
        self.gateway = gateway
        self.graphiql = graphiql
        executor = IdentifyingExecutor(gateway.schemas, self._identify, gateway.registry.always_on)
        self.view = GatewayView(gateway, executor)

    def _identify(self, authorization: str | None) -> Identity:
        """Token → caller, module set and access facts (one statement); blocking."""
        if not authorization:
            return Identity(None, ANONYMOUS, None)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Identity(None, ANONYMOUS, "the Authorization header must be 'Bearer <token>'")
        db = self.gateway.db
        with db.reader.connect() as connection:
            found = identity.authenticate(connection, token.strip())
        if found is None:
            return Identity(None, ANONYMOUS, "the token is invalid, expired or revoked")
        caller = found.caller
        modules = tenancy.effective_modules(self.gateway.registry, found.module_overrides)
        if found.stale:
            with db.transaction() as session:
                identity.touch_session(session, caller.session_id)
        return Identity(caller, modules, None, found.facts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        # Chosen (and echoed as X-Request-ID) by gateway.observability.middleware.
        request_id = scope.get(REQUEST_ID) or uuid.uuid4().hex
        watch = observed()
        media_type = negotiate(request.headers.get("accept"))
        try:
            graphql_request = await self._read(request, media_type)
        except TransportError as error:
            if watch is not None:
                watch.outcome = error.code.value
            await error_response(error, media_type)(scope, receive, send)
            return
        if graphql_request is None:  # a browser: the page, before any token or database
            assert self.graphiql is not None
            await self.graphiql.response()(scope, receive, send)
            return
        scope["crm"] = {
            "request_id": request_id,
            "limiter": scope.get("state", {}).get(EXECUTION_LIMITER),
            "media_type": media_type or JSON,
            "request": graphql_request,
        }
        await self.view(scope, receive, send)

    async def _read(self, request: Request, media_type: str | None) -> GraphQLRequestData | None:
        """The GraphQL request, checked before any other work; ``None`` for the GraphiQL page.

        Raises TransportError for an unsupported method (405), ``Accept`` (406) or content
        type (415), and for malformed JSON, encodings or parameters (400).
        """
        if request.method not in ("GET", "POST"):
            raise TransportError(
                405,
                f"GraphQL is served over GET and POST, not {request.method[:20]}",
                headers={"Allow": "GET, POST"},
            )
        if request.method == "GET" and self.graphiql is not None and wants_graphiql(request):
            return None
        if media_type is None:
            raise TransportError(
                406, f"the response can be {GRAPHQL_RESPONSE} or {JSON}: accept one of them"
            )
        if request.method == "GET":
            return parse_query_string(request.scope.get("query_string", b""))
        check_content_type(request.headers.get("content-type"))
        return parse_body(await request.body())


def _middleware(settings: Settings, observability: Observability) -> list[Middleware]:
    """The request id and its observation (outermost: it times everything); clients gone
    mid-request end quietly (:class:`ClientGone`); forwarded headers from trusted proxies
    only; then the request size limit (uploads to ``/files`` have their own,
    ``CRM_MAX_UPLOAD_BYTES``).

    The client address (sign-in limits, web forms) is the connecting peer's unless that peer
    is one of ``CRM_TRUSTED_PROXIES``; then it is the first untrusted address of
    ``X-Forwarded-For`` read from the right (uvicorn's algorithm). Done here, not only in
    ``crm-gateway serve``, so the app behaves the same under any ASGI server that leaves
    the peer address alone.
    """
    stack: list[Middleware] = [
        Middleware(ObserveRequests, observability=observability),
        Middleware(ClientGone),  # before Starlette's 500 handler would log a traceback
    ]
    if settings.trusted_proxies:
        stack.append(
            Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
        )
    stack.append(
        Middleware(
            BodyLimit,
            limit=settings.max_body_bytes,
            paths={UPLOAD_ROUTE: settings.max_upload_bytes},
        )
    )
    return stack


def _metrics_route(gateway: Gateway) -> list[Route]:
    """``GET /metrics`` when metrics are on (``CRM_METRICS_TOKEN``); absent (404) otherwise."""
    if gateway.settings.metrics_token is None:
        return []
    from gateway.observability.scrape import MetricsEndpoint

    return [Route("/metrics", MetricsEndpoint(gateway).endpoint, methods=["GET"])]


def create_app(gateway: Gateway | None = None) -> Starlette:
    """The ASGI app. ``uvicorn --factory gateway.app:create_app`` reads settings from env."""
    if gateway is None:
        # A server process (uvicorn's factory, each worker): refuse to serve a database that
        # lacks an installed plugin's migrations or tables, naming the plugin.
        gateway = Gateway.create()
        migrate.check_current(gateway.db.engine, gateway.registry)
        if gateway.settings.log_format == "json":  # uvicorn run by hand: JSON from here on
            from gateway.observability.logs import configure_json

            configure_json(os.environ.get("CRM_LOG_LEVEL", "info"))
    graphiql_routes: list[Route] = []
    graphiql_page = None
    if gateway.settings.graphiql:
        assets = load_assets()
        graphiql_page = GraphiQLPage(assets)
        graphiql_routes.append(Route(GRAPHIQL_ASSETS, AssetRoute(assets).endpoint, methods=["GET"]))
    endpoint = GraphQLEndpoint(gateway, graphiql_page)
    readiness = Readiness(gateway)
    field_graph(gateway.registry)  # checks every module's @derivedFrom now, not on a request

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Everything built at start-up (plugins, schemas' types, SQLAlchemy mappers) lives as
        # long as the process: move it out of the collector's sight so collections stay short
        # (p99 latency spikes were garbage-collection pauses; see bench/RESULTS.md).
        gc.collect()
        gc.freeze()
        # A request allocates thousands of objects, nearly all freed by reference counting;
        # at the default threshold (700) the young generation was still collected about
        # once per request (~5% of a 50-row list's CPU). Collected every GC_YOUNG instead.
        gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
        # SQLite runs background jobs in this process (docs/architecture.md, "Jobs");
        # PostgreSQL leaves them to `crm-gateway worker` processes.
        runner = None
        if gateway.db.is_sqlite and gateway.settings.jobs_in_process:
            from gateway.jobs.runner import InProcessRunner

            runner = InProcessRunner(gateway)
            runner.start()
            readiness.runner = runner
        # Operations run in worker threads; a few threads per process do as much work as
        # forty fighting for the GIL, with less latency (bench/RESULTS.md, "threads").
        yield {EXECUTION_LIMITER: anyio.CapacityLimiter(gateway.settings.execution_threads)}
        if runner is not None:
            await anyio.to_thread.run_sync(runner.stop)
        gateway.observability.flush()
        gateway.db.dispose()

    # Plugins' own HTTP routes come after the kernel's, so they cannot shadow them.
    plugin_routes = [
        route for routes in gateway.registry.pm.hook.crm_http_routes() for route in routes
    ]
    app = Starlette(
        routes=[
            # Every method reaches the endpoint, which answers the unsupported ones itself.
            Route("/graphql", endpoint),
            *graphiql_routes,
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness.endpoint, methods=["GET"]),
            *_metrics_route(gateway),
            # Uploads (POST /files) and downloads by signed link (GET /files/{id}).
            *FileRoutes(gateway, endpoint._identify, EXECUTION_LIMITER).routes(),
            *plugin_routes,
        ],
        middleware=_middleware(gateway.settings, gateway.observability),
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.endpoint = endpoint
    app.state.readiness = readiness
    return app
