"""GraphQL for the audit trail: a record's history, for those who see the record, with the
values of fields hidden to them masked by the same field rules."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from gateway.access.enforcement import get_visible
from gateway.access.fields import effective_rules, field_graph, has_full_access
from gateway.audit.models import RecordChangeLog
from gateway.core.types import UserType, load_users
from gateway.errors import BadUserInput
from gateway.graphql.common import global_id, page_size, split_global_id
from gateway.graphql.connection import Connection
from gateway.graphql.context import RequestContext
from gateway.graphql.pagination import keyset_page
from gateway.lists import Listed

Ctx = Info[RequestContext, None]


@strawberry.type(description="One field's change: its values as JSON text.")
class FieldChange:
    field: str = strawberry.field(description="The column, as the GraphQL field name.")
    before: str | None = strawberry.field(description="JSON; null if masked or none.")
    after: str | None = strawberry.field(description="JSON; null if masked or none.")
    masked: bool = strawberry.field(
        description="Your field rules hide this field: its values are not shown."
    )


@strawberry.type(description="What one change did to a record, who made it and how.")
class RecordHistoryEntry:
    record: strawberry.Private[RecordChangeLog]
    field_changes: strawberry.Private[list[FieldChange]]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("RecordHistoryEntry", self.record.id)

    @strawberry.field
    def at(self) -> datetime:
        return self.record.at

    @strawberry.field(description="created, updated or deleted.")
    def action(self) -> str:
        return self.record.action

    @strawberry.field(description="The path: api, job, import, web_form, cli or system.")
    def via(self) -> str:
        return self.record.via

    @strawberry.field(description="What the change was part of (merge, undo_import…), or ''.")
    def reason(self) -> str:
        return self.record.reason

    @strawberry.field(description="Who made it (null: a web form visitor or the system).")
    def user(self, info: Info) -> UserType | None:
        if self.record.user_id is None:
            return None
        found = load_users(info.context, [self.record.user_id]).get(self.record.user_id)
        return UserType(record=found) if found else None

    @strawberry.field
    def changes(self) -> list[FieldChange]:
        return self.field_changes


def _field_names(column: str) -> tuple[str, ...]:
    name = to_camel_case(column)
    return (name, name[:-2]) if column.endswith("_id") else (name,)


def _masker(ctx: RequestContext, type_name: str, record: Any) -> Any:
    """``masked(column)``: hidden by the caller's field rules, or a full-access field of a
    record the caller sees only through a public level."""
    rules = effective_rules(ctx.access)
    policies = field_graph(ctx.gateway.registry).policies
    full = has_full_access(ctx, record)

    def masked(column: str) -> bool:
        for name in _field_names(column):
            key = (type_name, name)
            policy = policies.get(key)
            if rules.hidden(key) or (policy is not None and policy.full_access and not full):
                return True
        return False

    return masked


@strawberry.field(
    description="A record's history, newest first: every change with who, when, the path "
    "and each field's before and after value. Only for records you may see; values of "
    "fields your profile hides are masked."
)
def record_history(
    info: Ctx, record_id: strawberry.ID, first: int | None = None, after: str | None = None
) -> Connection[RecordHistoryEntry]:
    ctx = info.context
    ctx.require_caller()
    registry = ctx.gateway.registry
    type_name, pk = split_global_id(record_id, "recordId")
    entity = registry.entity_of_type.get(type_name)
    if entity is None:
        raise BadUserInput(f"{type_name} records have no history", field="recordId")
    record = get_visible(ctx.session, entity.model, pk, entity.entity)
    masked = _masker(ctx, type_name, record)
    of_record = (RecordChangeLog.entity == entity.entity) & (RecordChangeLog.record_id == record.id)
    # An id may be used again after a deletion (SQLite reuses the highest rowid): entries up
    # to the last deletion belong to an earlier record.
    last_deleted = (
        select(func.max(RecordChangeLog.id))
        .where(of_record, RecordChangeLog.action == "deleted")
        .scalar_subquery()
    )
    stmt = select(RecordChangeLog).where(
        of_record, RecordChangeLog.id > func.coalesce(last_deleted, 0)
    )
    page = keyset_page(
        ctx.session,
        stmt,
        RecordChangeLog.id,
        RecordChangeLog.id,
        first=page_size(first, ctx.gateway.settings),
        after=after,
        descending=True,
    )
    load_users(ctx, sorted({r.user_id for r in page.rows if r.user_id is not None}))

    def entry(row: RecordChangeLog) -> RecordHistoryEntry:
        changes = []
        for column, (before, after_value) in sorted(row.changes.items()):
            hide = masked(column)
            changes.append(
                FieldChange(
                    field=_field_names(column)[-1],
                    before=None if hide or before is None else json.dumps(before),
                    after=None if hide or after_value is None else json.dumps(after_value),
                    masked=hide,
                )
            )
        return RecordHistoryEntry(record=row, field_changes=changes)

    def count() -> int:
        return int(ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    listed = Listed(page.rows, page.cursors, page.has_next, page.has_previous, count)
    return Connection.of(listed, entry)


QUERY_FIELDS = [record_history]
