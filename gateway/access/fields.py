"""Field-level authorization (MISSION A10).

Two kinds of rules, both visible in the SDL as directives:

* ``@requires(permission: "…")`` on a field, and profile field rules (hidden / read-only
  per ``Type.field``): checked once per operation, *before execution* — selecting a field
  the caller's profile may not read answers ``FORBIDDEN`` naming it, and no SQL runs.
* ``@fullAccess`` on a field of an access-controlled type: the value is shown only when the
  caller has full access to that record (owner, hierarchy, assistant, share, sharing rule,
  structural/admin); a record visible only through a public level resolves the field to
  ``null`` with a ``FORBIDDEN`` error at its path. Decided for all loaded records of an
  entity with one query, not per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from sqlalchemy import select
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from gateway.access.models import FieldMode
from gateway.access.predicates import Mode
from gateway.access.scope import SYSTEM
from gateway.errors import Forbidden
from gateway.graphql.document_memo import DocumentMemo
from gateway.identity.services import ENROLMENT_FIELDS


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requires",
    description="Reading this field needs the named permission in the caller's profile.",
)
class Requires:
    permission: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="fullAccess",
    description="Shown only with full access to the record (not through a public level).",
)
class FullAccess:
    pass


@dataclass(frozen=True)
class FieldPolicy:
    permission: str | None = None
    full_access: bool = False


def field_policies(schema: GraphQLSchema) -> dict[tuple[str, str], FieldPolicy]:
    """``(type, field)`` → what reading it needs, read from the fields' schema directives."""
    policies: dict[tuple[str, str], FieldPolicy] = {}
    for type_name, gql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
            continue
        for field_name, gql_field in gql_type.fields.items():
            definition = (gql_field.extensions or {}).get("strawberry-definition")
            directives = getattr(definition, "directives", None) or []
            permission = next((d.permission for d in directives if isinstance(d, Requires)), None)
            full = any(isinstance(d, FullAccess) for d in directives)
            if permission or full:
                policies[(type_name, field_name)] = FieldPolicy(permission, full)
    return policies


_SELECTED: DocumentMemo[frozenset[tuple[str, str]]] = DocumentMemo()


def selected_fields(schema: GraphQLSchema, document: DocumentNode) -> frozenset[tuple[str, str]]:
    """Every ``(parent type, field)`` a document selects, fragments included (memoised)."""
    # keyed on the schema object itself (held by the key): a schema's id could be reused
    return _SELECTED.get(document, schema, lambda: _collect_fields(schema, document))


def _collect_fields(schema: GraphQLSchema, document: DocumentNode) -> frozenset[tuple[str, str]]:
    type_info = TypeInfo(schema)
    found: set[tuple[str, str]] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add((get_named_type(parent).name, node.name.value))

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return frozenset(found)


class FieldGuard(SchemaExtension):
    """Refuse, before execution, an operation selecting fields the caller may not read."""

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
            policies = ec.schema.crm_field_policies  # type: ignore[attr-defined]
            scope = access.scope
            denied = sorted(
                f"{t}.{f}"
                for t, f in selected_fields(ec.schema._schema, ec.graphql_document)
                if scope.field_rules.get((t, f)) is FieldMode.HIDDEN
                or (
                    (policy := policies.get((t, f))) is not None
                    and policy.permission is not None
                    and not scope.has(policy.permission)
                )
            )
            if denied:
                raise Forbidden(f"your profile may not read {', '.join(denied)}", fields=denied)
        yield


def filter_reads(given: object | None, reads: Mapping[str, tuple[str, ...]]) -> set[str]:
    """The fields a filter input matches on: ``reads`` maps each input attribute to the
    GraphQL fields it reads; attributes left empty (None, False, [], unset) read nothing."""
    if given is None:
        return set()
    return {
        field
        for attribute, fields in reads.items()
        if getattr(given, attribute, None) not in (None, False, [], strawberry.UNSET)
        for field in fields
    }


def check_filterable_fields(access: Any, type_name: str, fields: set[str]) -> None:
    """Refuse filtering or sorting by fields the caller's profile hides: the matches, the
    order and the cursors (which carry the sort value) would reveal them."""
    if access is None:
        return
    rules = access.scope.field_rules
    hidden = sorted(
        f"{type_name}.{f}" for f in fields if rules.get((type_name, f)) is FieldMode.HIDDEN
    )
    if hidden:
        raise Forbidden(
            f"your profile may not filter or sort by {', '.join(hidden)}", fields=hidden
        )


def check_writable_fields(access: Any, type_name: str, fields: set[str]) -> None:
    """Refuse writing fields the caller's profile has read-only or hidden (mutations)."""
    denied = sorted(f for f in fields if access.scope.field_rules.get((type_name, f)) is not None)
    if denied:
        raise Forbidden(
            f"your profile may not change {', '.join(f'{type_name}.{f}' for f in denied)}",
            fields=[f"{type_name}.{f}" for f in denied],
        )


class FullAccessGuard(FieldExtension):
    """Resolve the field only for records the caller has full access to."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        record = getattr(source, "record", None)
        if record is not None and not has_full_access(info.context, record):
            raise Forbidden("this field needs full access to the record", field=info.field_name)
        return next_(source, info, **kwargs)


def has_full_access(context: Any, record: Any) -> bool:
    """Whether the caller has full access; decided for every loaded record of the entity
    at once (one query), then answered from the request's cache."""
    access = getattr(context, "access", None)
    if access is None or access.scope.sees_everything:
        return True
    entity = access.registry.entity_of_model[type(record)]
    if getattr(record, entity.owner_attribute) == access.scope.user_id:
        return True
    cache: dict[int, bool] = access.full_access_cache.setdefault(entity.entity, {})
    if record.id not in cache:
        session = context.session
        pending = {
            obj.id
            for obj in session.identity_map.values()
            if type(obj) is entity.model and obj.id not in cache
        } | {record.id}
        full = set(
            session.scalars(
                select(entity.model.id)
                .where(entity.model.id.in_(pending), access.predicate(entity, Mode.FULL))
                .execution_options(**{SYSTEM: True})
            )
        )
        cache.update({rid: rid in full for rid in pending})
    return cache[record.id]


def guarded(
    resolver: Callable[..., Any] | None = None,
    *,
    permission: str | None = None,
    full_access: bool = False,
    **kwargs: Any,
) -> Any:
    """``strawberry.field`` with access rules: ``@requires`` and/or ``@fullAccess``."""
    directives: list[object] = list(kwargs.pop("directives", []))
    extensions: list[FieldExtension] = list(kwargs.pop("extensions", []))
    if permission:
        directives.append(Requires(permission=permission))
    if full_access:
        directives.append(FullAccess())
        extensions.append(FullAccessGuard())
    field = strawberry.field(directives=directives, extensions=extensions, **kwargs)
    return field(resolver) if resolver is not None else field
