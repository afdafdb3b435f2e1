"""The kernel's fast path for lists: a module declares an entity's plain fields and
relations (:mod:`gateway.shaping.declare`, mostly derived from its field table) and its list
resolver calls :func:`shaped_page`; plain selections are then read in one statement and
shaped straight into the response (:mod:`gateway.graphql.shaped`)."""

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
from gateway.shaping.page import shaped_page
from gateway.shaping.plan import ListPlan, plan_for
from gateway.shaping.users import USER

__all__ = [
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
    "shaped_page",
    "table_fields",
    "typed",
]
