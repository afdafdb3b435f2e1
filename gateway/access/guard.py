"""The field guard: before an operation executes, refuse it when it selects a field the
caller may not read (hidden by a rule, needing a permission, derived from such a field), or
a root field guarded by ``@requires`` whose permission the caller lacks; and keep a caller
who must enrol in two-factor sign-in to the enrolment fields. The rules themselves are in
:mod:`gateway.access.fields`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from strawberry.extensions import SchemaExtension

from gateway.access.fields import (
    FieldKey,
    _refusal,
    effective_rules,
    field_graph,
    field_label,
)
from gateway.errors import Forbidden
from gateway.graphql.document_memo import DocumentMemo
from gateway.identity.services import ENROLMENT_FIELDS

_SELECTED: DocumentMemo[frozenset[FieldKey]] = DocumentMemo()


def selected_fields(schema: GraphQLSchema, document: DocumentNode) -> frozenset[FieldKey]:
    """Every ``(parent type, field)`` a document selects, fragments included (memoised)."""
    # keyed on the schema object itself (held by the key): a schema's id could be reused
    return _SELECTED.get(document, schema, lambda: _collect_fields(schema, document))


def _collect_fields(schema: GraphQLSchema, document: DocumentNode) -> frozenset[FieldKey]:
    type_info = TypeInfo(schema)
    found: set[FieldKey] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add((get_named_type(parent).name, node.name.value))

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return frozenset(found)


class FieldGuard(SchemaExtension):
    """Refuse, before execution, an operation selecting fields the caller may not read
    (hidden by a rule, needing a permission, or derived from such a field)."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        caller = getattr(ec.context, "caller", None)
        if caller is not None and caller.enrolment_only and ec.graphql_document is not None:
            roots = {
                f
                for t, f in selected_fields(ec.schema._schema, ec.graphql_document)
                if t in ("Query", "Mutation")
            }
            if roots - ENROLMENT_FIELDS:
                raise Forbidden(
                    "your organisation requires two-factor sign-in: enrol an authenticator "
                    "app first (enrollTwoFactor, confirmTwoFactor)",
                    reason="TWO_FACTOR_ENROLMENT_REQUIRED",
                )
        access = getattr(ec.context, "access", None)
        if access is not None and ec.graphql_document is not None:
            rules = effective_rules(access)
            if rules:
                selected = selected_fields(ec.schema._schema, ec.graphql_document)
                denied = [key for key in selected if rules.hidden(key)]
                if denied:
                    _refuse_root_fields(ec.schema._schema, access, denied)
                    raise _refusal("read", denied, rules, "derived from")
        yield


def _refuse_root_fields(schema: GraphQLSchema, access: Any, denied: Iterable[FieldKey]) -> None:
    """A root field declared with ``guarded(permission=...)`` is refused like
    ``ctx.require`` refuses: the operation needs the permission (``extensions.permission``),
    not "may not read"."""
    roots = {t.name for t in (schema.query_type, schema.mutation_type) if t is not None}
    policies = field_graph(access.registry).policies
    missing = {
        key: policy.permission
        for key in denied
        if key[0] in roots
        and (policy := policies.get(key)) is not None
        and policy.permission is not None
        and not access.scope.has(policy.permission)
    }
    if missing:
        needed = sorted(set(missing.values()))
        keys = sorted(missing)
        raise Forbidden(
            f"this operation needs the permission {', '.join(map(repr, needed))} "
            f"({', '.join(map(field_label, keys))})",
            permission=needed[0],
            fields=[field_label(k) for k in keys],
        )
