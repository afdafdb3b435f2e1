"""Schema per caller: introspection shows each signed-in caller only the fields their
profile lets them use (MISSION A-goals, issue 17 item 1); signed-out callers are told to
sign in.

Operations still execute against the schema of the tenant's module set — the published
SDL stays the frontends' contract, and a field the caller may not use is refused before
execution as ``FORBIDDEN`` naming it (``gateway.access.guard``). Only introspection is
answered from the caller's *view*: the module set's schema without the fields their
effective rules hide (field rules, ``@requires`` permissions they lack, and what derives
from those). Views are cached by that fingerprint, bounded, so a profile's view is built
once, not per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    ValidationRule,
    execute,
)
from strawberry.extensions import SchemaExtension

from gateway.access.fields import FieldKey, effective_rules
from gateway.access.models import FieldMode
from gateway.errors import BadUserInput, ErrorCode

if TYPE_CHECKING:
    pass

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def _root_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The root field names of the operation that would run (fragments at the root
    included; an unknown or ambiguous name selects nothing — validation reports it)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    if len(chosen) != 1:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: list[str] = []
    pending = list(chosen[0].selection_set.selections)
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, FieldNode):
            names.append(node.name.value)
        elif isinstance(node, InlineFragmentNode):
            pending.extend(node.selection_set.selections)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                pending.extend(fragments[name].selection_set.selections)
    return names


def hidden_fields(access: Any) -> frozenset[FieldKey]:
    """What the caller's view leaves out: every field their effective rules hide."""
    rules = effective_rules(access)
    return frozenset(k for k, mode in rules.modes.items() if mode is FieldMode.HIDDEN)


class CallerIntrospection(SchemaExtension):
    """Answer a signed-in caller's introspection from their view of the schema.

    An operation whose root selects ``__schema`` or ``__type`` is introspection; it must
    stand alone (``__typename`` aside), or it is refused as ``BAD_USER_INPUT``: answering the
    data part from the view and the rest from the full schema would be two schemas in one
    answer. Strawberry skips its own execution when an extension has set the result.
    """

    def __init__(self, modules: frozenset[str]) -> None:
        super().__init__()
        self._modules = modules

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        access = getattr(ec.context, "access", None)
        document = ec.graphql_document
        if access is not None and document is not None:
            roots = _root_fields(document, ec.operation_name)
            if INTROSPECTION_ROOTS.intersection(roots):
                if any(not r.startswith("__") for r in roots):
                    raise BadUserInput(
                        "send introspection (__schema, __type) in an operation of its own",
                        field="query",
                    )
                # the gateway serving the request keeps the views (not the schema, which
                # several gateways in one process may share)
                view = ec.context.gateway.schemas.view(self._modules, hidden_fields(access))
                ec.result = execute(  # type: ignore[assignment]
                    view._schema,
                    document,
                    context_value=ec.context,
                    variable_values=ec.variables,
                    operation_name=ec.operation_name,
                )
        yield


class SignInToIntrospect(ValidationRule):
    """Signed-out callers asking for the schema are told to sign in (``UNAUTHENTICATED``),
    rather than that introspection is disabled: after signing in they get their view."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in INTROSPECTION_ROOTS:
            self.report_error(
                GraphQLError(
                    "Sign in to read the schema: introspection shows each signed-in user the "
                    "fields their profile may use (the full contract is schema/schema.graphql).",
                    node,
                    extensions={"code": ErrorCode.UNAUTHENTICATED.value},
                )
            )
