"""The error policy, the per-operation unit of work, and the root-field gate that tells a
caller *why* a field is missing from its schema."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from gateway.errors import ErrorCode, GatewayError
from gateway.observability.observation import current as observed
from gateway.plugins import PluginRegistry

log = logging.getLogger("gateway.errors")

MASKED_MESSAGE = "Unexpected error."
_UNKNOWN_FIELD = "Cannot query field"


def apply_error_policy(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """Give every error a code; mask and log the unexpected ones with the request id.

    Coded :class:`~gateway.errors.GatewayError` s pass through. Syntax and validation
    errors get ``GRAPHQL_VALIDATION_FAILED`` (``BAD_USER_INPUT`` for bad variables). Any
    other exception is replaced by "Unexpected error." plus the request id, and logged with
    its traceback, so no exception text reaches the client.

    Applied to the final result (not in an extension hook) because some pre-execution
    failures, such as the token limit, unwind through the extensions as exceptions.
    """
    gated = {
        _location(e)
        for e in errors
        if _extensions(e).get("code") in (ErrorCode.MODULE_DISABLED, ErrorCode.UNAUTHENTICATED)
        and e.original_error is None
    }
    processed: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if original is None:
            if error.message.startswith(_UNKNOWN_FIELD) and _location(error) in gated:
                continue  # the gate already said why this field is missing
            if "code" not in _extensions(error):
                code = (
                    ErrorCode.BAD_USER_INPUT
                    if error.message.startswith("Variable '$")
                    else ErrorCode.GRAPHQL_VALIDATION_FAILED
                )
                _extensions(error)["code"] = code.value
            processed.append(error)
        elif isinstance(original, GatewayError):
            processed.append(error)
        elif isinstance(original, GraphQLError):
            _extensions(error).setdefault("code", ErrorCode.BAD_USER_INPUT.value)
            processed.append(error)
        else:
            log.error(
                "unexpected error in request %s at %s",
                request_id,
                ".".join(map(str, error.path or [])),
                exc_info=(type(original), original, original.__traceback__),
            )
            processed.append(
                GraphQLError(
                    MASKED_MESSAGE,
                    nodes=error.nodes,
                    path=error.path,
                    extensions={
                        "code": ErrorCode.INTERNAL_SERVER_ERROR.value,
                        "requestId": request_id,
                    },
                )
            )
    return processed


def _extensions(error: GraphQLError) -> dict[str, Any]:
    """The error's extensions: graphql-core always sets a dict, but types it as optional."""
    if error.extensions is None:
        error.extensions = {}
    return error.extensions


def _location(error: GraphQLError) -> tuple[int, int] | None:
    return (error.locations[0].line, error.locations[0].column) if error.locations else None


class UnitOfWork(SchemaExtension):
    """Open a write session for mutations, close the request's session at the end, and
    hand the operation to the request's observation (gateway.observability), if any."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if self.execution_context.operation_type is OperationType.MUTATION:
            context.write = True
        yield

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            watch = observed()
            if watch is not None:  # its name and type, read once the request is over
                watch.execution = self.execution_context
            close = getattr(self.execution_context.context, "close", None)
            if close is not None:
                close()


def root_field_gate(
    registry: PluginRegistry, enabled: frozenset[str], anonymous: bool
) -> type[ValidationRule]:
    """A validation rule naming why a root field is absent from this caller's schema.

    Unknown root fields that some installed module provides answer ``UNAUTHENTICATED``
    to anonymous callers and ``MODULE_DISABLED`` (with the module) to tenants that have
    the module switched off. The generic "Cannot query field" error is then dropped.
    """

    class RootFieldGate(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            schema = context.schema
            self.roots = {
                t.name: t for t in (schema.query_type, schema.mutation_type) if t is not None
            }

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            parent = self.context.get_parent_type()
            if parent is None or parent.name not in ("Query", "Mutation"):
                return
            name = node.name.value
            root = self.roots.get(parent.name)
            if name.startswith("__") or (root is not None and name in root.fields):
                return
            module = registry.module_of_field(parent.name, name)
            if module is None:
                return
            if anonymous:
                self.report_error(
                    GraphQLError(
                        f"Sign in to use '{name}'.",
                        node,
                        extensions={"code": ErrorCode.UNAUTHENTICATED.value},
                    )
                )
            elif module not in enabled:
                self.report_error(
                    GraphQLError(
                        f"'{name}' belongs to module '{module}', which is disabled for "
                        "this organisation.",
                        node,
                        extensions={"code": ErrorCode.MODULE_DISABLED.value, "module": module},
                    )
                )

    return RootFieldGate
