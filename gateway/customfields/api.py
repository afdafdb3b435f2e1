"""The GraphQL side of custom fields: the root fields that list, create and delete an
entity's custom field *definitions*, built once here for every module that has custom fields
(contacts, opportunities, and next tasks) instead of copied into each.

A module hands :func:`definition_fields` its definition model, its published GraphQL types
and names and the permission that manages them, and publishes the three root fields it gets
back. The fields behave the same for every entity: a key of letters, digits and
underscores; a CHOICE needs choices; the new field goes last; a taken key is a unique
violation that the transaction turns into ``CONFLICT`` (never check-then-insert).

This module evaluates its annotations eagerly (no ``from __future__ import annotations``):
the resolvers are made per module, and strawberry must see the module's own payload types.
"""

from dataclasses import dataclass
from typing import Any, TypeAlias

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.access.fields import guarded
from gateway.customfields import FieldType, definitions
from gateway.errors import BadUserInput, NotFound
from gateway.graphql.common import mutate, parse_global_id
from gateway.graphql.context import RequestContext

#: The field types as a GraphQL enum, published as ``CustomFieldType`` (shared by every
#: entity's custom fields). ``FieldType`` itself is the enum after this decoration; the alias
#: keeps annotations types to mypy.
strawberry.enum(FieldType, name="CustomFieldType")
FieldTypeEnum: TypeAlias = FieldType

Ctx = Info[RequestContext, None]

#: The longest key (the definition table's ``key`` column).
MAX_KEY = 60


@dataclass(frozen=True)
class DefinitionFields:
    """The root fields :func:`definition_fields` made: publish ``query`` among the module's
    query fields, ``create`` and ``delete`` among its mutation fields."""

    query: Any
    create: Any
    delete: Any


def new_definition(
    session: Session,
    model: type[Any],
    tenant_id: int,
    key: str,
    label: str,
    kind: FieldType,
    choices: list[str] | None,
    required: bool,
) -> Any:
    """Add a definition of ``model`` (last in display order) and flush, so a taken key
    fails here as a unique violation (→ ``CONFLICT``). A service: GraphQL-free."""
    clean = key.strip()
    if not clean.isidentifier() or len(clean) > MAX_KEY:
        raise BadUserInput("a key of letters, digits and underscores", field="key")
    kind = FieldType(kind)
    if kind is FieldType.CHOICE and not choices:
        raise BadUserInput("a choice field needs choices", field="choices")
    position = (session.scalar(select(func.max(model.position))) or 0) + 1
    created = model(
        tenant_id=tenant_id,
        key=clean,
        label=label.strip() or clean,
        type=kind,
        choices="\n".join(c.strip() for c in choices or [] if c.strip()),
        required=required,
        position=position,
    )
    session.add(created)
    session.flush()
    return created


def definition_fields(
    model: type[Any],
    *,
    node: type[Any],
    payload: type[Any],
    removed: type[Any],
    permission: str,
    list_name: str,
    create_name: str,
    delete_name: str,
    list_description: str | None = None,
    create_description: str | None = None,
    delete_description: str | None = None,
) -> DefinitionFields:
    """The list / create / delete root fields of ``model``'s custom field definitions.

    ``node`` is the published definition type (built as ``node(record=…)``; its GraphQL name
    is the global ID's type), ``payload`` has ``custom_field`` and ``errors``, ``removed`` is
    an ``OkPayload``. Listing needs a signed-in caller; changing needs ``permission``
    (declared, so the SDL shows it and the check runs before execution).
    """
    id_type = node.__strawberry_definition__.name

    def listed(info: Ctx) -> list[node]:  # type: ignore[valid-type]
        ctx = info.context
        ctx.require_caller()
        return [node(record=f) for f in definitions(ctx.session, model).values()]

    def create(
        info: Ctx,
        key: str,
        label: str,
        type: FieldType,
        choices: list[str] | None = None,
        required: bool = False,
    ) -> payload:  # type: ignore[valid-type]
        ctx = info.context
        caller = ctx.require_caller()

        def work(session: Session) -> Any:
            return new_definition(
                session, model, caller.tenant_id, key, label, type, choices, required
            )

        return mutate(ctx, payload, work, lambda r: payload(custom_field=node(record=r)))

    def delete(info: Ctx, id: strawberry.ID) -> removed:  # type: ignore[valid-type]
        ctx = info.context
        ctx.require_caller()

        def work(session: Session) -> bool:
            found = session.get(model, parse_global_id(id, id_type))
            if found is None:
                raise NotFound("no such custom field", field="id")
            session.delete(found)
            return True

        return mutate(ctx, removed, work, lambda _done: removed(ok=True))

    # the root types are assembled by Python name: each module's resolvers need their own
    for resolver, published in ((listed, list_name), (create, create_name), (delete, delete_name)):
        resolver.__name__ = resolver.__qualname__ = _snake(published)
    return DefinitionFields(
        query=strawberry.field(listed, name=list_name, description=list_description),
        create=guarded(
            create, permission=permission, name=create_name, description=create_description
        ),
        delete=guarded(
            delete, permission=permission, name=delete_name, description=delete_description
        ),
    )


def _snake(name: str) -> str:
    """``createContactCustomField`` → ``create_contact_custom_field``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
