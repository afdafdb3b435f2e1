"""Composing one Strawberry schema per distinct set of enabled modules, and caching it.

Building a schema costs tens of milliseconds (DESIGN §3), so each set is built once per
process; the cache key is the module set itself, so nothing needs invalidating when a
tenant switches a module: its next request simply maps to another key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import cached_property, partial
from typing import Any

import anyio.to_thread
import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.tools import create_type
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from gateway.access.fields import FieldPolicy, field_policies
from gateway.access.guard import FieldGuard
from gateway.config import Settings
from gateway.errors import PluginError
from gateway.graphql.caller_schema import CallerIntrospection, SignInToIntrospect
from gateway.graphql.document_memo import DocumentMemo
from gateway.graphql.extensions import UnitOfWork, apply_error_policy, root_field_gate
from gateway.graphql.input_checks import InputCheck
from gateway.graphql.scalars import SCALARS
from gateway.graphql.shaped import ShapingExecutionContext
from gateway.observability.observation import current as observed
from gateway.plugins import PluginRegistry, graphql_field_name

#: The schema key of callers who have not signed in.
ANONYMOUS = None


class GatewaySchema(strawberry.Schema):
    """A Strawberry schema whose operations execute synchronously in a worker thread.

    The whole operation (validation, resolvers, SQL) runs in one thread with one Session,
    so resolvers are plain functions, lazy loads work, and the event loop stays free.

    ``type_fields`` are the fields enabled modules add to other modules' types
    (``crm_type_fields``): Strawberry asks :meth:`get_fields` for each object type's fields
    while it builds the schema, so each schema gets exactly its modules' extensions while
    the type classes stay shared.

    A caller's *view* (``hidden``: the fields their effective rules hide) leaves those out,
    for introspection (:mod:`gateway.graphql.caller_schema`).
    """

    def __init__(
        self,
        *args: Any,
        type_fields: dict[str, list[StrawberryField]] | None = None,
        hidden: frozenset[tuple[str, str]] = frozenset(),
        **kwargs: Any,
    ) -> None:
        self._type_fields = type_fields or {}
        self._hidden = hidden
        super().__init__(*args, **kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        type_name = type_definition.name
        fields = type_definition.fields
        extra = self._type_fields.get(type_name)
        if extra:
            taken = {graphql_field_name(f) for f in fields}
            for f in extra:
                name = graphql_field_name(f)
                if name in taken:
                    raise PluginError(f"crm_type_fields: {type_name}.{name} exists already")
            fields = [*fields, *extra]
        if self._hidden:
            shown = [f for f in fields if (type_name, graphql_field_name(f)) not in self._hidden]
            # a type needs a field: one whose every field is hidden keeps them (still refused)
            fields = shown or fields
        return fields

    @cached_property
    def crm_field_policies(self) -> dict[tuple[str, str], FieldPolicy]:
        return field_policies(self._schema)

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        context = kwargs.get("context_value")
        limiter = getattr(context, "limiter", None)
        return await anyio.to_thread.run_sync(
            partial(self.execute_sync, *args, **kwargs), limiter=limiter
        )

    def execute_sync(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Strawberry's execution, then the error policy on the final result."""
        result = super().execute_sync(*args, **kwargs)
        if result.errors:
            context = kwargs.get("context_value", args[2] if len(args) > 2 else None)
            request_id = getattr(context, "request_id", "-")
            result.errors = apply_error_policy(result.errors, request_id)
        watch = observed()
        if watch is not None:  # metrics, logs and traces say how the operation ended
            watch.outcome = _outcome(result.errors)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging is :func:`apply_error_policy`'s job (with the request id); skip Strawberry's."""


def _outcome(errors: list[GraphQLError] | None) -> str:
    """``ok``, or the code of the first error (every error has one after the policy)."""
    if not errors:
        return "ok"
    return str((errors[0].extensions or {}).get("code", "ERROR"))


_VALIDATED: DocumentMemo[list[GraphQLError]] = DocumentMemo(maxsize=256)


class DocumentValidationCache(SchemaExtension):
    """Strawberry's ``ValidationCache``, keyed by the parsed document's identity.

    Strawberry's keys on the document's content hash, which walks the whole AST per lookup;
    the parser cache returns the same document object for the same text, and the rules are
    the same classes for every request of a schema (built once, see ``_build``).
    """

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        schema, document, rules = ec.schema._schema, ec.graphql_document, ec.validation_rules
        assert document is not None, "validation runs on a parsed document"
        ec.pre_execution_errors = _VALIDATED.get(
            document, (schema, tuple(rules)), lambda: validate_document(schema, document, rules)
        )
        yield


#: How many callers' views (introspection schemas) a process keeps: one per distinct
#: (module set, hidden fields), i.e. per profile in practice.
MAX_VIEWS = 64

ViewKey = tuple[frozenset[str], frozenset[tuple[str, str]]]


#: Module-set schemas by (registry, limits, modules), for every factory in the process: a
#: schema holds nothing of the gateway serving it (the request context brings that), so
#: gateways built over one registry — a test suite makes one per test — build each once.
_BUILT: dict[tuple[PluginRegistry, tuple[int, int, int], frozenset[str] | None], GatewaySchema] = {}


class SchemaFactory:
    """Builds and caches the schema of each module set (and the anonymous schema), and the
    callers' views of them for introspection (bounded, least recently used dropped)."""

    def __init__(self, registry: PluginRegistry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        self._schemas: dict[frozenset[str] | None, GatewaySchema] = {}
        self._views: OrderedDict[ViewKey, GatewaySchema] = OrderedDict()
        self._lock = threading.Lock()
        #: Views built since start (a view dropped from the cache and built again counts).
        self.views_built = 0

    def full(self) -> GatewaySchema:
        """Every installed module on: the published contract (``schema/schema.graphql``)."""
        return self.for_modules(frozenset(self.registry.plugins))

    def for_modules(self, modules: frozenset[str] | None) -> GatewaySchema:
        """The schema of a tenant with ``modules`` enabled; ``ANONYMOUS`` for signed-out."""
        schema = self._schemas.get(modules)
        if schema is None:
            with self._lock:
                schema = self._schemas.get(modules)
                if schema is None:
                    key = (self.registry, self._limits, modules)
                    schema = _BUILT.get(key)
                    if schema is None:
                        schema = _BUILT[key] = self._build(modules)
                    self._schemas[modules] = schema
        return schema

    @cached_property
    def _limits(self) -> tuple[int, int, int]:
        s = self.settings
        return (s.max_query_depth, s.max_aliases, s.max_tokens)

    def view(self, modules: frozenset[str], hidden: frozenset[tuple[str, str]]) -> GatewaySchema:
        """The schema of ``modules`` as a caller whose rules hide ``hidden`` sees it."""
        if not hidden:
            return self.for_modules(modules)
        key = (modules, hidden)
        with self._lock:
            schema = self._views.get(key)
            if schema is not None:
                self._views.move_to_end(key)
                return schema
        schema = self._build(modules, hidden)  # outside the lock: tens of milliseconds
        with self._lock:
            self.views_built += 1
            self._views[key] = schema
            while len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)
        return schema

    @property
    def built(self) -> int:
        return len(self._schemas)

    def _build(
        self, modules: frozenset[str] | None, hidden: frozenset[tuple[str, str]] = frozenset()
    ) -> GatewaySchema:
        anonymous = modules is ANONYMOUS
        enabled = self.registry.always_on if anonymous else modules
        assert enabled is not None
        reg = self.registry
        query_fields = [f for f, owner in reg.query_fields.values() if owner.info.name in enabled]
        mutation_fields = [
            f for f, owner in reg.mutation_fields.values() if owner.info.name in enabled
        ]
        types = [cls for cls, owner in reg.types.values() if owner.info.name in enabled]
        type_fields = {
            type_name: [f for f, owner in fields.values() if owner.info.name in enabled]
            for type_name, fields in reg.type_fields.items()
        }
        s = self.settings
        # Validation rules are built once per schema: Strawberry's ValidationCache keys on the
        # rule classes, so rules made per request (as the limiter extensions do) never hit it.
        rules = (
            depth_rule(s.max_query_depth, None, None),
            alias_rule(s.max_aliases),
            root_field_gate(reg, enabled, anonymous),
            *((SignInToIntrospect,) if anonymous else ()),
        )
        extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
            UnitOfWork,
            # before anything reads an input: text limits, control characters, list sizes
            InputCheck,
            FieldGuard,
            lambda: CallerIntrospection(enabled),
            lambda: ParserCache(maxsize=256),
            DocumentValidationCache,
            lambda: MaxTokensLimiter(max_token_count=s.max_tokens),
            lambda: AddValidationRules(list(rules)),
        ]
        try:
            schema = GatewaySchema(
                type_fields=type_fields,
                hidden=hidden,
                query=create_type("Query", query_fields),
                mutation=create_type("Mutation", mutation_fields) if mutation_fields else None,
                types=types,
                extensions=extensions,
                execution_context_class=ShapingExecutionContext,
                # Date, DateTime and Decimal validated at the edge (gateway.graphql.scalars)
                config=StrawberryConfig(disable_field_suggestions=True, scalar_map=SCALARS),
            )
        except TypeError as error:  # graphql-core wraps what get_fields raises
            if isinstance(error.__cause__, PluginError):
                raise error.__cause__ from None
            raise
        if (
            modules == frozenset(reg.plugins) and not hidden
        ):  # the full schema: every extension must land
            unknown = sorted(
                f"{type_name}.{name} (plugin {owner.label})"
                for type_name, fields in reg.type_fields.items()
                if type_name not in schema._schema.type_map
                for name, (_field, owner) in fields.items()
            )
            if unknown:
                raise PluginError(f"crm_type_fields extend types no module declares: {unknown}")
        return schema
