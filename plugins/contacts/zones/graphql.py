"""Zones in GraphQL: ``zones`` for everyone signed in; ``createZone``, ``deleteZone``,
``setZoneUsers`` with the contacts' settings permission; ``importZones`` (a job) with the
import permission too (checked when the job is queued and again when it runs)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from gateway.sdk import (
    IMPORT_PERMISSION,
    DeletePayload,
    GatewayError,
    JobPayload,
    JobType,
    RequestContext,
    UserError,
    UserType,
    defer_job,
    global_id,
    guarded,
    load_users,
    mutate,
    open_file,
    parse_global_id,
    read_table,
    text_argument,
)
from plugins.contacts.permissions import ContactsPermission as P
from plugins.contacts.zones import service
from plugins.contacts.zones.importing import IMPORT_ZONES_JOB, columns_of
from plugins.contacts.zones.models import NAME_LENGTH, Zone

Ctx = Info[RequestContext, None]


@strawberry.type(name="Zone", description="A zone of the sales team and its users (MISSION M6).")
class ZoneType:
    record: strawberry.Private[Zone]
    user_ids: strawberry.Private[list[int]]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Zone", self.record.id)

    @strawberry.field(description="Unique in the organisation; contacts name it in `zone`.")
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="The users assigned to the zone, by email.")
    def users(self, info: Ctx) -> list[UserType]:
        found = load_users(info.context, self.user_ids)
        listed = [found[i] for i in self.user_ids if i in found]
        return [UserType(record=u) for u in sorted(listed, key=lambda u: u.email)]


def _nodes(ctx: Any, zones: list[Zone]) -> list[ZoneType]:
    links = service.users_of(ctx, [z.id for z in zones])
    load_users(ctx, sorted({u for ids in links.values() for u in ids}))  # one query
    return [ZoneType(record=z, user_ids=links[z.id]) for z in zones]


@strawberry.type
class ZonePayload:
    zone: ZoneType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteZonePayload(DeletePayload):
    """``DeletePayload`` under the zones' own name."""


@strawberry.field(description="The organisation's zones with their users, by name.")
def zones(info: Ctx) -> list[ZoneType]:
    ctx = info.context
    ctx.require_caller()
    return _nodes(ctx, list(ctx.session.scalars(service.listed())))


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Create a zone (no users yet); CONFLICT if the name is taken.",
)
def create_zone(info: Ctx, name: Annotated[str, text_argument(NAME_LENGTH)]) -> ZonePayload:
    ctx = info.context
    ctx.require_caller()
    return mutate(
        ctx,
        ZonePayload,
        lambda _s: service.create_zone(ctx, name),
        lambda zone: ZonePayload(zone=ZoneType(record=zone, user_ids=[])),
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Delete a zone and its users' links; contacts keep their zone text.",
)
def delete_zone(info: Ctx, id: strawberry.ID) -> DeleteZonePayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> int:
        return service.delete_zone(ctx, parse_global_id(id, "Zone"))

    return mutate(
        ctx,
        DeleteZonePayload,
        work,
        lambda pk: DeleteZonePayload(deleted_id=global_id("Zone", pk)),
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Make these users (active, not assistants) the zone's users, replacing "
    "the ones it had; an empty list leaves it without users. NOT_FOUND for an unknown user.",
)
def set_zone_users(info: Ctx, zone_id: strawberry.ID, user_ids: list[strawberry.ID]) -> ZonePayload:
    ctx = info.context
    ctx.require_caller()

    def work(_session: Session) -> ZoneType:
        ids = [parse_global_id(u, "User", "userIds") for u in user_ids]
        zone = service.set_users(ctx, parse_global_id(zone_id, "Zone", "zoneId"), ids)
        return _nodes(ctx, [zone])[0]

    return mutate(ctx, ZonePayload, work, lambda node: ZonePayload(zone=node))


@guarded(
    permission=IMPORT_PERMISSION,
    description="Import zones with their users from a file of the zone template (a Zone "
    "column, required, and a Users column of emails), as a background job: each zone named "
    "gets exactly the users listed (zones not there are created). Users not found are "
    "reported on their cell and the others linked. A dry run reports the same counts and "
    "writes nothing. Needs contacts.manage_settings too.",
)
def import_zones(info: Ctx, file_id: strawberry.ID, dry_run: bool = False) -> JobPayload:
    ctx = info.context
    ctx.require_caller()
    try:
        ctx.require(P.MANAGE_SETTINGS.value)
        source = open_file(ctx, file_id)
        columns_of(read_table(source.content, source.name).header)
    except GatewayError as exc:
        return JobPayload(errors=[UserError.from_exception(exc)])
    params = {"file_id": source.id, "dry_run": dry_run}
    return mutate(
        ctx,
        JobPayload,
        lambda _s: defer_job(ctx, IMPORT_ZONES_JOB, params),
        lambda job: JobPayload(job=JobType(record=job)),
    )


QUERY_FIELDS = [zones]
MUTATION_FIELDS = [create_zone, delete_zone, set_zone_users, import_zones]
