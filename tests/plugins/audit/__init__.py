"""A test-only module that requires notes, is off by default, and reacts to events."""

from __future__ import annotations

from pathlib import Path

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from gateway.sdk import PluginInfo, TypeField, hookimpl
from tests.plugins.audit.models import AuditEntry
from tests.plugins.notes import NoteType
from tests.plugins.notes.models import Note


@strawberry.type
class AuditEvent:
    entity: str
    kind: str


@strawberry.field
def audit_trail(info: Info) -> list[AuditEvent]:
    ctx = info.context
    where = AuditEntry.tenant_id == ctx.tenant_id
    rows = ctx.session.scalars(select(AuditEntry).where(where).order_by(AuditEntry.id))
    return [AuditEvent(entity=r.entity, kind=r.kind) for r in rows]


@strawberry.field(description="What the audit recorded about this note.")
def audit_events(root: NoteType, info: Info) -> list[AuditEvent]:
    ctx = info.context

    def fetch(note_ids: list[int]) -> dict[int, list[AuditEvent]]:
        found: dict[int, list[AuditEvent]] = {i: [] for i in note_ids}
        where = (AuditEntry.tenant_id == ctx.tenant_id) & (AuditEntry.entity == "note")
        rows = ctx.session.scalars(
            select(AuditEntry)
            .where(where, AuditEntry.record_id.in_(note_ids))
            .order_by(AuditEntry.id)
        )
        for r in rows:
            found[r.record_id].append(AuditEvent(entity=r.entity, kind=r.kind))
        return found

    return ctx.nested_loader("audit.note_events", Note, fetch).get(root.record.id) or []


@hookimpl
def crm_type_fields() -> list[TypeField]:
    return [TypeField("Note", audit_events)]


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="audit",
        title="Audit trail",
        version="0.1",
        requires=("notes",),
        default_enabled=False,
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> list[type]:
    return [AuditEntry]


@hookimpl
def crm_query_fields() -> list:
    return [audit_trail]


def _log(context, entity: str, kind: str, record_id: int) -> None:
    context.session.add(
        AuditEntry(tenant_id=context.tenant_id, entity=entity, kind=kind, record_id=record_id)
    )


@hookimpl
def crm_record_changed(context, change) -> None:
    _log(context, change.entity, change.kind.value, change.record.id)


@hookimpl
def crm_veto_delete(context, entity, record) -> str | None:
    if entity == "note" and record.title.startswith("keep"):
        return "notes titled 'keep…' are kept for the audit"
    if entity == "contact" and record.display_name.lower().startswith("keep"):
        return "this contact is under audit"
    return None


@hookimpl
def crm_merge_records(context, entity, kept, merged) -> None:
    _log(context, entity, "merged", merged.id)


@hookimpl
def crm_email_refusals(context, entity, record_ids) -> dict[int, str]:
    if entity != "contact":
        return {}
    from plugins.contacts.models import Contact

    rows = context.session.execute(
        select(Contact.id).where(Contact.id.in_(record_ids), Contact.company_name.like("Nomail%"))
    )
    return {contact_id: "contacts named Nomail… are never emailed" for (contact_id,) in rows}
