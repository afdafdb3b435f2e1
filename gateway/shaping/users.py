"""The ``User`` type as a shaped relation target (an owner, a responsible user): its plain
fields, joined with the tenant criterion the gateway adds to ``users``."""

from __future__ import annotations

from gateway.identity.models import User
from gateway.shaping.declare import Entity, column, node_id

USER = Entity(
    "User",
    User,
    {
        "id": node_id("User", User.id),
        "email": column(User.email),
        "displayName": column(User.display_name),
        "isActive": column(User.is_active),
    },
)
