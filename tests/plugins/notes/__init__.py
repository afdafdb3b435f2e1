"""A test-only module: notes under full access control, with a nested relation
(parent/children), a full-access field, a permission-guarded field, events, a veto and demo
data. It exercises every access path the kernel must guard."""

from __future__ import annotations

import base64
from pathlib import Path

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway import events
from gateway.access.api import ExportFile
from gateway.access.enforcement import get_visible, get_writable
from gateway.access.fields import check_writable_fields, guarded, has_full_access
from gateway.access.services import grant
from gateway.contract import (
    AccessControlledEntity,
    AccessLevel,
    ChangeKind,
    Permission,
    PluginInfo,
)
from gateway.core.types import UserType, load_users
from gateway.errors import GatewayError
from gateway.excel import XLSX_MIME, add_sheet, new_workbook, to_bytes
from gateway.graphql.common import (
    AccessLevelEnum,
    UserError,
    global_id,
    page_size,
    parse_global_id,
)
from gateway.graphql.node import Node
from gateway.hookspecs import hookimpl
from tests.plugins.notes.models import Note


@strawberry.type(name="Note")
class NoteType(Node):
    record: strawberry.Private[Note]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Note", self.record.id)

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field
    def access(self) -> AccessLevelEnum:  # type: ignore[valid-type]
        return AccessLevel(self.record.access)

    @guarded(full_access=True)
    def body(self) -> str | None:
        return self.record.body

    @guarded(permission="notes.read_secret")
    def secret(self) -> str | None:
        return self.record.secret

    @strawberry.field
    def owner(self, info: Info) -> UserType | None:
        owner_id = self.record.owner_id
        found = load_users(info.context, [owner_id]).get(owner_id) if owner_id else None
        return UserType(record=found) if found else None

    @strawberry.field
    def parent(self) -> NoteType | None:
        return NoteType(record=self.record.parent) if self.record.parent else None

    @strawberry.field
    def children(self) -> list[NoteType]:
        return [NoteType(record=c) for c in self.record.children]


@strawberry.type
class NotePayload:
    note: NoteType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.field
def notes(info: Info, first: int | None = None) -> list[NoteType]:
    ctx = info.context
    ctx.require_caller()
    size = page_size(first, ctx.gateway.settings)
    rows = ctx.session.scalars(
        select(Note)
        .options(selectinload(Note.children), selectinload(Note.parent))
        .order_by(Note.id)
        .limit(size)
    ).all()
    load_users(ctx, sorted({n.owner_id for n in rows if n.owner_id}))
    return [NoteType(record=n) for n in rows]


@strawberry.field
def note(info: Info, id: strawberry.ID) -> NoteType | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.get(Note, parse_global_id(id, "Note"))
    return NoteType(record=found) if found else None


@strawberry.field
def note_count(info: Info) -> int:
    ctx = info.context
    ctx.require_caller()
    return ctx.session.scalar(select(func.count()).select_from(Note)) or 0


@strawberry.field
def export_notes(info: Info) -> ExportFile:
    """Visible notes as xlsx; bodies only where the caller has full access."""
    ctx = info.context
    ctx.require_caller()
    rows = ctx.session.scalars(select(Note).order_by(Note.id)).all()
    workbook = new_workbook()
    add_sheet(
        workbook,
        "Notes",
        ["Title", "Access", "Body"],
        [[n.title, n.access, n.body if has_full_access(ctx, n) else ""] for n in rows],
    )
    content = base64.b64encode(to_bytes(workbook)).decode()
    return ExportFile(filename="notes.xlsx", mime_type=XLSX_MIME, content_base64=content)


@strawberry.field
def boom(info: Info) -> str:
    raise RuntimeError("the database password is hunter2")


@strawberry.mutation
def create_note(
    info: Info,
    title: str,
    body: str | None = None,
    access: AccessLevelEnum = AccessLevel.PRIVATE,  # type: ignore[valid-type]
    parent_id: strawberry.ID | None = None,
    owner_id: strawberry.ID | None = None,
) -> NotePayload:
    ctx = info.context
    caller = ctx.require_caller()
    try:
        with ctx.transaction() as session:
            parent = (
                get_visible(session, Note, parse_global_id(parent_id, "Note", "parentId"), "note")
                if parent_id
                else None
            )
            note = Note(
                tenant_id=caller.tenant_id,
                owner_id=parse_global_id(owner_id, "User", "ownerId")
                if owner_id
                else caller.user_id,
                title=title,
                body=body or "",
                access=AccessLevel(access).value,
                parent=parent,
            )
            session.add(note)
            events.record_changed(ctx, ChangeKind.CREATED, "note", note)
    except GatewayError as exc:
        return NotePayload(errors=[UserError.from_exception(exc)])
    return NotePayload(note=NoteType(record=note))


@strawberry.mutation
def update_note(
    info: Info,
    id: strawberry.ID,
    title: str | None = None,
    body: str | None = None,
    access: AccessLevelEnum | None = None,  # type: ignore[valid-type]
    owner_id: strawberry.ID | None = None,
) -> NotePayload:
    ctx = info.context
    ctx.require_caller()
    changes = {
        k: v
        for k, v in {"title": title, "body": body, "access": access, "owner": owner_id}.items()
        if v is not None
    }
    try:
        with ctx.transaction() as session:
            check_writable_fields(ctx.access, "Note", set(changes))
            note = get_writable(session, Note, parse_global_id(id, "Note"), "note")
            if title is not None:
                note.title = title
            if body is not None:
                note.body = body
            if access is not None:
                note.access = AccessLevel(access).value
            if owner_id is not None:
                note.owner_id = parse_global_id(owner_id, "User", "ownerId")
            events.record_changed(ctx, ChangeKind.UPDATED, "note", note, frozenset(changes))
    except GatewayError as exc:
        return NotePayload(errors=[UserError.from_exception(exc)])
    return NotePayload(note=NoteType(record=note))


@strawberry.mutation
def delete_note(info: Info, id: strawberry.ID) -> NotePayload:
    ctx = info.context
    ctx.require_caller()
    try:
        with ctx.transaction() as session:
            note = get_writable(session, Note, parse_global_id(id, "Note"), "note")
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
    return [Permission("notes.read_secret", "Read the secret of notes")]


@hookimpl
def crm_access_controlled() -> list[AccessControlledEntity]:
    return [
        AccessControlledEntity(
            entity="note",
            model=Note,
            graphql_type="Note",
            graphql_factory=lambda record: NoteType(record=record),
        )
    ]


@hookimpl
def crm_graphql_types() -> list[type]:
    return [NoteType]


@hookimpl
def crm_query_fields() -> list:
    return [notes, note, note_count, export_notes, boom]


@hookimpl
def crm_mutation_fields() -> list:
    return [create_note, update_note, delete_note]


DEMO_GRANTS = {
    "Director": ["read", "create", "update", "delete"],
    "Sales manager": ["read", "create", "update", "delete"],
    "Sales rep": ["read", "create", "update"],
    "Sales assistant": ["read", "update"],
    "Back office": ["read", "create", "update"],
}


@hookimpl
def crm_demo_data(session, tenant) -> None:
    for profile_name, actions in DEMO_GRANTS.items():
        if profile_name in tenant.profiles:
            grant(session, tenant.profiles[profile_name], [f"notes.note.{a}" for a in actions])
    exists = session.scalar(
        select(Note.id).where(Note.tenant_id == tenant.id, Note.title == "Welcome")
    )
    if exists is None:
        owner = next(iter(tenant.users.values()))
        session.add(
            Note(
                tenant_id=tenant.id,
                owner_id=owner.id,
                title="Welcome",
                access=AccessLevel.PUBLIC_READ.value,
            )
        )
