"""A test-only module: notes, with a list (page cap), a mutation, events, a veto, demo data."""

from __future__ import annotations

from pathlib import Path

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from gateway import events
from gateway.contract import AccessControlledEntity, ChangeKind, Permission, PluginInfo
from gateway.errors import GatewayError, NotFound
from gateway.graphql.common import UserError, global_id, page_size, parse_global_id
from gateway.hookspecs import hookimpl
from tests.plugins.notes.models import Note


@strawberry.type(name="Note")
class NoteType:
    id: strawberry.ID
    title: str

    @classmethod
    def of(cls, note: Note) -> NoteType:
        return cls(id=global_id("Note", note.id), title=note.title)


@strawberry.type
class NotePayload:
    note: NoteType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.field
def notes(info: Info, first: int | None = None) -> list[NoteType]:
    ctx = info.context
    size = page_size(first, ctx.gateway.settings)
    rows = ctx.session.scalars(
        select(Note).where(Note.tenant_id == ctx.tenant_id).order_by(Note.id).limit(size)
    )
    return [NoteType.of(n) for n in rows]


@strawberry.field
def boom(info: Info) -> str:
    raise RuntimeError("the database password is hunter2")


@strawberry.mutation
def create_note(info: Info, title: str) -> NotePayload:
    ctx = info.context
    with ctx.transaction() as session:
        note = Note(tenant_id=ctx.tenant_id, owner_id=ctx.user_id, title=title)
        session.add(note)
        events.record_changed(ctx, ChangeKind.CREATED, "note", note)
    return NotePayload(note=NoteType.of(note))


@strawberry.mutation
def delete_note(info: Info, id: strawberry.ID) -> NotePayload:
    ctx = info.context
    try:
        with ctx.transaction() as session:
            note = session.get(Note, parse_global_id(id, "Note"))
            if note is None or note.tenant_id != ctx.tenant_id:
                raise NotFound("no such note", field="id")
            events.ensure_deletable(ctx, "note", note)
            session.delete(note)
            events.record_changed(ctx, ChangeKind.DELETED, "note", note)
    except GatewayError as exc:
        return NotePayload(errors=[UserError.from_exception(exc)])
    return NotePayload()


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="notes",
        title="Notes",
        version="1.0",
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> list[type]:
    return [Note]


@hookimpl
def crm_permissions() -> list[Permission]:
    return [Permission("notes.read", "Read notes"), Permission("notes.write", "Write notes")]


@hookimpl
def crm_access_controlled() -> list[AccessControlledEntity]:
    return [AccessControlledEntity(entity="note", model=Note)]


@hookimpl
def crm_graphql_types() -> list[type]:
    return [NoteType]


@hookimpl
def crm_query_fields() -> list:
    return [notes, boom]


@hookimpl
def crm_mutation_fields() -> list:
    return [create_note, delete_note]


@hookimpl
def crm_demo_data(session, tenant) -> None:
    exists = session.scalar(
        select(Note.id).where(Note.tenant_id == tenant.id, Note.title == "Welcome")
    )
    if exists is None:
        owner = next(iter(tenant.users.values()))
        session.add(Note(tenant_id=tenant.id, owner_id=owner.id, title="Welcome"))
