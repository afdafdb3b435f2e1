"""Zones and their users, free of GraphQL and HTTP: the administration fields and the
import job call these with a :class:`CallerContext` (the caller's tenant, as a SQL
predicate on every statement, and named explicitly in every user lookup)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    NotFound,
    Profile,
    ProfileKind,
    User,
    batched,
    check_text,
)
from plugins.contacts.zones.models import NAME_LENGTH, Zone, ZoneUser

#: Values per ``IN (...)`` lookup.
CHUNK = 500


def clean_name(name: str, field: str = "name") -> str:
    """A zone name: trimmed, 1 to ``NAME_LENGTH`` characters on one line."""
    clean = check_text(name.strip(), field, max_length=NAME_LENGTH)
    if not clean:
        raise BadUserInput("a zone needs a name", field=field)
    return clean


def listed() -> Select[Zone]:
    return select(Zone).order_by(Zone.name, Zone.id)


def users_of(ctx: CallerContext, zone_ids: Sequence[int]) -> dict[int, list[int]]:
    """User ids per zone, in one query (the tenant predicate applies to the links)."""
    found: dict[int, list[int]] = {z: [] for z in zone_ids}
    for chunk in batched(zone_ids, CHUNK):
        stmt = (
            select(ZoneUser.zone_id, ZoneUser.user_id)
            .where(ZoneUser.zone_id.in_(chunk))
            .order_by(ZoneUser.zone_id, ZoneUser.user_id)
        )
        for zone_id, user_id in ctx.session.execute(stmt):
            found[zone_id].append(user_id)
    return found


def get_zone(ctx: CallerContext, zone_id: int) -> Zone:
    found = ctx.session.get(Zone, zone_id)
    if found is None:
        raise NotFound("no such zone", field="zoneId")
    return found


def create_zone(ctx: CallerContext, name: str) -> Zone:
    """A new zone; a taken name is a unique violation (CONFLICT), never a check first."""
    zone = Zone(tenant_id=ctx.tenant_id, name=clean_name(name))
    ctx.session.add(zone)
    ctx.session.flush()
    return zone


def delete_zone(ctx: CallerContext, zone_id: int) -> int:
    """Delete a zone and its links. Contacts naming it keep their text (it is theirs)."""
    zone = get_zone(ctx, zone_id)
    ctx.session.execute(delete(ZoneUser).where(ZoneUser.zone_id == zone.id))
    ctx.session.delete(zone)
    ctx.session.flush()
    return zone_id


@dataclass(frozen=True)
class Assignable:
    """A user a zone may name: an active, non-assistant user of the caller's tenant."""

    id: int
    email: str


@dataclass
class Found:
    users: dict[str, Assignable]
    #: Emails (lower case) of users found but who cannot have zones (assistants).
    assistants: set[str]


def _users(ctx: CallerContext) -> Select[tuple[int, str, ProfileKind]]:
    return (
        select(User.id, func.lower(User.email), Profile.kind)
        .join(Profile, Profile.id == User.profile_id)
        .where(User.tenant_id == ctx.tenant_id, User.is_active.is_(True))
    )


def _found(rows: Iterable[tuple[int, str, ProfileKind]], key: str) -> Found:
    found = Found({}, set())
    for user_id, email, kind in rows:
        name = email if key == "email" else str(user_id)
        if kind == ProfileKind.ASSISTANT:
            found.assistants.add(name)
        else:
            found.users[name] = Assignable(user_id, email)
    return found


def users_by_email(ctx: CallerContext, emails: Iterable[str]) -> Found:
    """Assignable users by lower-case email; another tenant's users are simply not found."""
    wanted = sorted({e.lower() for e in emails})
    found = Found({}, set())
    for chunk in batched(wanted, CHUNK):
        part = _found(
            ctx.session.execute(_users(ctx).where(func.lower(User.email).in_(chunk))), "email"
        )
        found.users.update(part.users)
        found.assistants |= part.assistants
    return found


def users_by_id(ctx: CallerContext, ids: Sequence[int]) -> list[int]:
    """The ids, checked: NOT_FOUND for any that is not an active user of the tenant,
    BAD_USER_INPUT for an assistant (assistants own nothing, so manage no zone)."""
    wanted = list(dict.fromkeys(ids))
    found = Found({}, set())
    for chunk in batched(wanted, CHUNK):
        part = _found(ctx.session.execute(_users(ctx).where(User.id.in_(chunk))), "id")
        found.users.update(part.users)
        found.assistants |= part.assistants
    if found.assistants:
        raise BadUserInput("an assistant cannot be given a zone", field="userIds")
    if len(found.users) != len(wanted):
        raise NotFound("no such user", field="userIds")
    return wanted


def replace_users(ctx: CallerContext, zone: Zone, user_ids: Iterable[int]) -> int:
    """Make ``user_ids`` the zone's users (checked beforehand); answers how many."""
    session = ctx.session
    session.execute(delete(ZoneUser).where(ZoneUser.zone_id == zone.id))
    links = [
        ZoneUser(zone_id=zone.id, user_id=user_id, tenant_id=zone.tenant_id)
        for user_id in dict.fromkeys(user_ids)
    ]
    session.add_all(links)
    session.flush()
    session.expire(zone, ["links"])
    return len(links)


def set_users(ctx: CallerContext, zone_id: int, user_ids: Sequence[int]) -> Zone:
    zone = get_zone(ctx, zone_id)
    replace_users(ctx, zone, users_by_id(ctx, user_ids))
    return zone


def zones_named(ctx: CallerContext, names: Iterable[str]) -> dict[str, Zone]:
    """Existing zones by exact name."""
    found: dict[str, Zone] = {}
    for chunk in batched(sorted(set(names)), CHUNK):
        for zone in ctx.session.scalars(select(Zone).where(Zone.name.in_(chunk))):
            found[zone.name] = zone
    return found
