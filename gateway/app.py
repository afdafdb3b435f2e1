"""The ASGI application: authenticate, pick the tenant's schema, execute in a worker thread.

::

    POST/GET /graphql ── bearer token → Caller (tenant, profile) + the tenant's modules
                      └─ the Strawberry view of that module set's cached schema
    GET /healthz      ── liveness (no database)
    …                 ── routes plugins contribute with ``crm_http_routes`` (e.g. /forms/{key})
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from gateway.access import enforcement
from gateway.access.fields import field_graph
from gateway.access.narrowing import PlanMemo
from gateway.access.scope import Facts
from gateway.config import Settings
from gateway.db import Database
from gateway.graphql.context import RequestContext
from gateway.graphql.schema_factory import ANONYMOUS, GatewaySchema, SchemaFactory
from gateway.identity import services as identity
from gateway.identity.crypto import SecretBox, load_key
from gateway.identity.services import Caller
from gateway.plugins import BUILTIN_PLUGINS, PluginRegistry, build_registry
from gateway.tenancy import services as tenancy

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

    def __post_init__(self) -> None:
        self.schemas = SchemaFactory(self.registry, self.settings)
        self.plan_memo = PlanMemo()
        enforcement.install(self.db, self.registry)

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
            registry=registry or build_registry(builtin=(*BUILTIN_PLUGINS, *settings.plugins)),
        )


@dataclass(frozen=True)
class _Identity:
    caller: Caller | None
    modules: frozenset[str] | None
    problem: str | None
    #: The caller's access facts, read with the token (see identity.services.authenticate).
    facts: Facts | None = None


class GatewayView(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view for one schema; the context comes from the dispatcher."""

    def __init__(self, gateway: Gateway, schema: GatewaySchema) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if gateway.settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.gateway = gateway

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        state = request.scope["crm"]
        ident: _Identity = state["identity"]
        return RequestContext(
            gateway=self.gateway,
            request_id=state["request_id"],
            caller=ident.caller,
            enabled_modules=ident.modules or self.gateway.registry.always_on,
            auth_problem=ident.problem,
            request=request,
            response=response,
            client=(request.headers.get("user-agent") or "")[:200],
            client_address=request.client.host if request.client else "unknown",
            limiter=state.get("limiter"),
            facts=ident.facts,
        )


#: Lifespan state key of the limiter bounding the worker threads of operations.
EXECUTION_LIMITER = "crm_execution_limiter"


class GraphQLEndpoint:
    """Resolves the caller once, then hands the request to its module set's view."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._views: dict[frozenset[str] | None, GatewayView] = {}

    def view_for(self, modules: frozenset[str] | None) -> GatewayView:
        view = self._views.get(modules)
        if view is None:
            schema = self.gateway.schemas.for_modules(modules)
            view = self._views[modules] = GatewayView(self.gateway, schema)
        return view

    def _identify(self, authorization: str | None) -> _Identity:
        if not authorization:
            return _Identity(None, ANONYMOUS, None)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _Identity(None, ANONYMOUS, "the Authorization header must be 'Bearer <token>'")
        db = self.gateway.db
        with db.reader.connect() as connection:
            found = identity.authenticate(connection, token.strip())
        if found is None:
            return _Identity(None, ANONYMOUS, "the token is invalid, expired or revoked")
        caller = found.caller
        modules = tenancy.effective_modules(self.gateway.registry, found.module_overrides)
        if found.stale:
            with db.transaction() as session:
                identity.touch_session(session, caller.session_id)
        return _Identity(caller, modules, None, found.facts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        request_id = uuid.uuid4().hex
        limiter = scope.get("state", {}).get(EXECUTION_LIMITER)
        ident = await anyio.to_thread.run_sync(
            self._identify, request.headers.get("authorization"), limiter=limiter
        )
        scope["crm"] = {"identity": ident, "request_id": request_id, "limiter": limiter}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.view_for(ident.modules)(scope, receive, send_with_request_id)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(gateway: Gateway | None = None) -> Starlette:
    """The ASGI app. ``uvicorn --factory gateway.app:create_app`` reads settings from env."""
    gateway = gateway or Gateway.create()
    endpoint = GraphQLEndpoint(gateway)
    field_graph(gateway.registry)  # checks every module's @derivedFrom now, not on a request

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Everything built at start-up (plugins, schemas' types, SQLAlchemy mappers) lives as
        # long as the process: move it out of the collector's sight so collections stay short
        # (p99 latency spikes were garbage-collection pauses; see bench/RESULTS.md).
        gc.collect()
        gc.freeze()
        # Operations run in worker threads; a few threads per process do as much work as
        # forty fighting for the GIL, with less latency (bench/RESULTS.md, "threads").
        yield {EXECUTION_LIMITER: anyio.CapacityLimiter(gateway.settings.execution_threads)}
        gateway.db.dispose()

    # Plugins' own HTTP routes come after the kernel's, so they cannot shadow them.
    plugin_routes = [
        route for routes in gateway.registry.pm.hook.crm_http_routes() for route in routes
    ]
    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *plugin_routes,
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.endpoint = endpoint
    return app
