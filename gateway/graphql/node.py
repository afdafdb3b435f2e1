"""Relay's ``Node`` interface and the ``node(id)`` query, for every access-controlled type.

A record the caller may not see, of another tenant, or of a module switched off for the
tenant, answers ``null`` — the same as an ID that does not exist. An entity declared for
the kernel shaper (``AccessControlledEntity.shaped``) answers plain selections in one
statement (:func:`gateway.shaping.node.shaped_node`).
"""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.types import Info

from gateway.errors import BadUserInput
from gateway.graphql.common import split_global_id
from gateway.shaping.node import shaped_node


@strawberry.interface(name="Node", description="An object with a global ID.")
class Node:
    @strawberry.field
    def id(self) -> strawberry.ID:  # implemented by each type
        raise NotImplementedError


@strawberry.field(description="Any object by its global ID (relay).")
def node(info: Info, id: strawberry.ID) -> Node | None:
    ctx = info.context
    ctx.require_caller()
    try:
        type_name, pk = split_global_id(id)
    except BadUserInput:
        return None  # no record has this ID
    registry = ctx.gateway.registry
    entity = registry.entity_of_type.get(type_name)
    if entity is None or entity.graphql_factory is None:
        return None
    if registry.entity_module[entity.entity] not in ctx.enabled_modules:
        return None
    if entity.shaped is not None:
        shaped = shaped_node(info, entity.shaped, pk, abstract=True)
        if shaped is not None:
            return cast(Node | None, shaped)
    record = ctx.session.get(entity.model, pk)
    return entity.graphql_factory(record) if record is not None else None
