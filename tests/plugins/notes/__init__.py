"""A test-only module: notes under full access control, with a nested relation
(parent/children), a full-access field, a permission-guarded field, events, a veto and demo
data. It exercises every access path the kernel must guard, and is written on the kit:
imports from ``gateway.sdk`` only, ``list_records`` for the list, ``mutate`` for writes."""

from __future__ import annotations

import base64
from pathlib import Path

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway import sdk
from tests.plugins.notes import jobs, tasks
from tests.plugins.notes.models import Note, NoteAssignment


@strawberry.type(name="Note")
class NoteType(sdk.Node):
    record: strawberry.Private[Note]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return sdk.global_id("Note", self.record.id)

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field
    def access(self) -> sdk.AccessLevelEnum:  # type: ignore[valid-type]
        return sdk.AccessLevel(self.record.access)

    @sdk.guarded(full_access=True)
    def body(self) -> str | None:
        return self.record.body

    @sdk.guarded(permission="notes.read_secret")
    def secret(self) -> str | None:
        return self.record.secret

    @strawberry.field
    def owner(self, info: Info) -> sdk.UserType | None:
        owner_id = self.record.owner_id
        found = sdk.load_users(info.context, [owner_id]).get(owner_id) if owner_id else None
        return sdk.UserType(record=found) if found else None

    @strawberry.field
    def parent(self) -> NoteType | None:
        return NoteType(record=self.record.parent) if self.record.parent else None

    @strawberry.field
    def children(self) -> list[NoteType]:
        return [NoteType(record=c) for c in self.record.children]


@strawberry.type
class NotePayload:
    note: NoteType | None = None
    errors: list[sdk.UserError] = strawberry.field(default_factory=list)


def note_payload(note: Note | None) -> NotePayload:
    return NotePayload(note=NoteType(record=note) if note is not None else None)


@strawberry.field
def notes(info: Info, first: int | None = None) -> list[NoteType]:
    ctx = info.context
    ctx.require_caller()
    listed = sdk.list_records(
        ctx,
        Note,
        "Note",
        select(Note),
        order=sdk.Order(Note.id),
        window=sdk.Window.of(ctx.gateway.settings, first),
        options=[selectinload(Note.children), selectinload(Note.parent)],
    )
    sdk.load_users(ctx, sorted({n.owner_id for n in listed.rows if n.owner_id}))
    return [NoteType(record=n) for n in listed.rows]


@strawberry.field
def note(info: Info, id: strawberry.ID) -> NoteType | None:
    info.context.require_caller()
    found = info.context.session.get(Note, sdk.parse_global_id(id, "Note"))
    return NoteType(record=found) if found else None


@strawberry.field
def note_count(info: Info) -> int:
    info.context.require_caller()
    return info.context.session.scalar(select(func.count()).select_from(Note)) or 0


@strawberry.field
def export_notes(info: Info) -> sdk.ExportFile:
    """Visible notes as xlsx; bodies only where the caller has full access."""
    ctx = info.context
    ctx.require_caller()
    rows = ctx.session.scalars(select(Note).order_by(Note.id)).all()
    workbook = sdk.new_workbook()
    body = [[n.title, n.access, n.body if sdk.has_full_access(ctx, n) else ""] for n in rows]
    sdk.add_sheet(workbook, "Notes", ["Title", "Access", "Body"], body)
    content = base64.b64encode(sdk.to_bytes(workbook)).decode()
    return sdk.ExportFile(filename="notes.xlsx", mime_type=sdk.XLSX_MIME, content_base64=content)


@strawberry.field
def boom(info: Info) -> str:
    raise RuntimeError("the database password is hunter2")


@strawberry.mutation
def create_note(
    info: Info,
    title: str,
    body: str | None = None,
    access: sdk.AccessLevelEnum = sdk.AccessLevel.PRIVATE,  # type: ignore[valid-type]
    parent_id: strawberry.ID | None = None,
    owner_id: strawberry.ID | None = None,
) -> NotePayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session) -> Note:
        parent = None
        if parent_id:
            parent_pk = sdk.parse_global_id(parent_id, "Note", "parentId")
            parent = sdk.get_visible(session, Note, parent_pk, "note")
        owner = sdk.parse_global_id(owner_id, "User", "ownerId") if owner_id else caller.user_id
        note = Note(
            tenant_id=caller.tenant_id,
            owner_id=owner,
            title=title,
            body=body or "",
            access=sdk.AccessLevel(access).value,
            parent=parent,
        )
        session.add(note)
        sdk.events.record_changed(ctx, sdk.ChangeKind.CREATED, "note", note)
        return note

    return sdk.mutate(ctx, NotePayload, work, note_payload)


@strawberry.mutation
def update_note(
    info: Info,
    id: strawberry.ID,
    title: str | None = None,
    body: str | None = None,
    access: sdk.AccessLevelEnum | None = None,  # type: ignore[valid-type]
    owner_id: strawberry.ID | None = None,
) -> NotePayload:
    ctx = info.context
    ctx.require_caller()
    given = {"title": title, "body": body, "access": access, "owner": owner_id}
    changes = {k: v for k, v in given.items() if v is not None}

    def work(session) -> Note:
        sdk.check_writable_fields(ctx.access, "Note", set(changes))
        note = sdk.get_writable(session, Note, sdk.parse_global_id(id, "Note"), "note")
        if title is not None:
            note.title = title
        if body is not None:
            note.body = body
        if access is not None:
            note.access = sdk.AccessLevel(access).value
        if owner_id is not None:
            note.owner_id = sdk.parse_global_id(owner_id, "User", "ownerId")
        sdk.events.record_changed(ctx, sdk.ChangeKind.UPDATED, "note", note, frozenset(changes))
        return note

    return sdk.mutate(ctx, NotePayload, work, note_payload)


@strawberry.mutation
def delete_note(info: Info, id: strawberry.ID) -> NotePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session) -> None:
        note = sdk.get_writable(session, Note, sdk.parse_global_id(id, "Note"), "note")
        sdk.events.ensure_deletable(ctx, "note", note)
        session.delete(note)
        sdk.events.record_changed(ctx, sdk.ChangeKind.DELETED, "note", note)

    return sdk.mutate(ctx, NotePayload, work, note_payload)


@sdk.hookimpl
def crm_plugin_info() -> sdk.PluginInfo:
    migrations = Path(__file__).parent / "versions"
    return sdk.PluginInfo(name="notes", title="Notes", version="1.0", migrations=migrations)


@sdk.hookimpl
def crm_models() -> list[type]:
    return [Note, NoteAssignment]


@sdk.hookimpl
def crm_permissions() -> list[sdk.Permission]:
    return [sdk.Permission("notes.read_secret", "Read the secret of notes")]


@sdk.hookimpl
def crm_access_controlled() -> list[sdk.AccessControlledEntity]:
    factory = lambda record: NoteType(record=record)  # noqa: E731
    assigned = sdk.AssignmentGrant(
        NoteAssignment, "note_id", describe=lambda row: f"slot {row.slot}"
    )
    return [
        sdk.AccessControlledEntity(
            "note", Note, graphql_type="Note", graphql_factory=factory, assignments=assigned
        )
    ]


crm_reassign_tasks = tasks.crm_reassign_tasks
crm_count_tasks_to_reassign = tasks.crm_count_tasks_to_reassign


@sdk.hookimpl
def crm_job_kinds() -> list[sdk.JobKind]:
    return jobs.KINDS


@sdk.hookimpl
def crm_graphql_types() -> list[type]:
    return [NoteType]


@sdk.hookimpl
def crm_query_fields() -> list:
    return [notes, note, note_count, export_notes, boom]


@sdk.hookimpl
def crm_mutation_fields() -> list:
    return [create_note, update_note, delete_note, jobs.start_note_job]


DEMO_GRANTS = {
    "Director": ["read", "create", "update", "delete"],
    "Sales manager": ["read", "create", "update", "delete"],
    "Sales rep": ["read", "create", "update"],
    "Sales assistant": ["read", "update"],
    "Back office": ["read", "create", "update"],
}


@sdk.hookimpl
def crm_demo_data(session, tenant) -> None:
    for profile_name, actions in DEMO_GRANTS.items():
        if profile_name in tenant.profiles:
            sdk.grant(session, tenant.profiles[profile_name], [f"notes.note.{a}" for a in actions])
    welcome = select(Note.id).where(Note.tenant_id == tenant.id, Note.title == "Welcome")
    if session.scalar(welcome) is None:
        owner = next(iter(tenant.users.values()))
        public = sdk.AccessLevel.PUBLIC_READ.value
        session.add(Note(tenant_id=tenant.id, owner_id=owner.id, title="Welcome", access=public))
