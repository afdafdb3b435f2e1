"""Sign-in and execution in ONE worker thread per request.

The caller's module set decides which schema executes the operation, and reading the
token is blocking database work; so was the operation. Both used to hop to a worker thread
each (identify, then execute), and a hop costs as much CPU as a small resolver (thread
hand-off, event-loop wake-up, context copies). Here the Strawberry view executes through
:class:`IdentifyingExecutor`, which stands in for the schema: in one thread it reads the
token (and the access facts with it, one statement), completes the request context with
the caller, picks the module set's schema and runs the operation synchronously.

Nothing is cached across requests: every request reads its token, so a revoked session, an
expired token or a disabled user is refused on the very next request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from strawberry.types import ExecutionResult

from gateway.observability.observation import current as observed

if TYPE_CHECKING:
    from gateway.access.scope import Facts
    from gateway.graphql.context import RequestContext
    from gateway.graphql.schema_factory import GatewaySchema, SchemaFactory
    from gateway.identity.services import Caller


@dataclass(frozen=True)
class Identity:
    """Who a bearer token names: the caller and their tenant's modules, or why nobody."""

    caller: Caller | None
    modules: frozenset[str] | None
    problem: str | None
    #: The caller's access facts, read with the token (see identity.services.authenticate).
    facts: Facts | None = None


class IdentifyingExecutor:
    """What the Strawberry view calls ``schema``: ``execute`` identifies the caller and
    executes on their module set's schema, in one worker thread.

    The view reads nothing else of its schema on the paths the gateway serves but
    ``config`` (batching, off), taken from the anonymous schema (every schema is built
    with the same configuration).
    """

    def __init__(
        self,
        schemas: SchemaFactory,
        identify: Callable[[str | None], Identity],
        always_on: frozenset[str],
    ) -> None:
        self._schemas = schemas
        self._identify = identify
        self._always_on = always_on
        self.config = schemas.for_modules(None).config

    async def execute(self, query: str | None, **kwargs: Any) -> ExecutionResult:
        context: RequestContext = kwargs["context_value"]
        return await anyio.to_thread.run_sync(
            partial(self.execute_sync, query, **kwargs), limiter=context.limiter
        )

    def execute_sync(self, query: str | None, **kwargs: Any) -> ExecutionResult:
        context: RequestContext = kwargs["context_value"]
        schema = self.identify(context)
        return schema.execute_sync(query, **kwargs)

    def identify(self, context: RequestContext) -> GatewaySchema:
        """Completes ``context`` with the token's caller; the schema to execute on."""
        ident = self._identify(context.request.headers.get("authorization"))
        context.caller = ident.caller
        context.enabled_modules = ident.modules or self._always_on
        context.auth_problem = ident.problem
        context.facts = ident.facts
        watch = observed()
        if watch is not None and ident.caller is not None:
            watch.tenant_id = ident.caller.tenant_id
        return self._schemas.for_modules(ident.modules)
