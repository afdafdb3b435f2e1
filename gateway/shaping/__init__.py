"""The kernel's fast path for lists and lookups by id: a module declares an entity's plain
fields and relations (:mod:`gateway.shaping.declare`, mostly derived from its field table)
and its list resolver calls :func:`shaped_page`, its by-id resolver :func:`shaped_node`;
plain selections are then read in one statement and shaped straight into the response
(:mod:`gateway.graphql.shaped`)."""

from gateway.shaping.declare import (
    Embedded,
    Entity,
    Scalar,
    ToMany,
    ToOne,
    access_level,
    column,
    node_id,
    table_fields,
    typed,
)
from gateway.shaping.node import shaped_node
from gateway.shaping.page import shaped_page
from gateway.shaping.plan import ListPlan, plan_for
from gateway.shaping.users import PROFILE, USER

__all__ = [
    "PROFILE",
    "USER",
    "Embedded",
    "Entity",
    "ListPlan",
    "Scalar",
    "ToMany",
    "ToOne",
    "access_level",
    "column",
    "node_id",
    "plan_for",
    "shaped_node",
    "shaped_page",
    "table_fields",
    "typed",
]
