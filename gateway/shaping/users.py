"""The ``User`` type as a shaped relation target (an owner, a responsible user): its plain
fields and its profile, joined with the tenant criterion the gateway adds to ``users`` and
``profiles``."""

from __future__ import annotations

from gateway.identity.models import Profile, User
from gateway.shaping.declare import Entity, ToOne, column, node_id

PROFILE = Entity(
    "Profile",
    Profile,
    {
        "id": node_id("Profile", Profile.id),
        "name": column(Profile.name),
        "kind": column(Profile.kind),
        "builtin": column(Profile.builtin),
    },
)

USER = Entity(
    "User",
    User,
    {
        "id": node_id("User", User.id),
        "email": column(User.email),
        "displayName": column(User.display_name),
        "isActive": column(User.is_active),
    },
    # Non-null in the schema: a user's profile is of its own tenant, so the join finds it.
    {"profile": ToOne(PROFILE, lambda user, profile: profile.id == user.profile_id)},
)
