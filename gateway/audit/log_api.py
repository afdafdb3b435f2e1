"""GraphQL for the organisation audit log: read and export it (``core.audit.view``)."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, func, or_, select
from strawberry.types import Info

from gateway.access.fields import guarded
from gateway.audit.admin import log_export
from gateway.audit.models import AdminEvent
from gateway.core.types import UserType, load_users
from gateway.errors import BadUserInput
from gateway.excel import XLSX_MIME, add_sheet, new_workbook, to_bytes
from gateway.graphql.common import global_id, page_size, parse_global_id
from gateway.graphql.connection import Connection
from gateway.graphql.context import RequestContext
from gateway.graphql.pagination import keyset_page
from gateway.graphql.payloads import ExportFile
from gateway.identity.models import User
from gateway.lists import Listed

Ctx = Info[RequestContext, None]
VIEW_AUDIT = "core.audit.view"
#: The most entries one export holds (narrow the period for more).
MAX_EXPORT = 100_000


@strawberry.type(description="One entry of the organisation audit log.")
class AuditLogEntry:
    record: strawberry.Private[AdminEvent]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("AuditLogEntry", self.record.id)

    @strawberry.field
    def at(self) -> datetime:
        return self.record.at

    @strawberry.field(description="`area.verb`: auth.sign_in, access.profile_updated, …")
    def action(self) -> str:
        return self.record.action

    @strawberry.field(description="What it was done to: a profile, a user's email, a file.")
    def target(self) -> str:
        return self.record.target

    @strawberry.field(description="More about it, as JSON text.")
    def details(self) -> str:
        return json.dumps(self.record.details, ensure_ascii=False, sort_keys=True)

    @strawberry.field
    def client_address(self) -> str:
        return self.record.client_address

    @strawberry.field
    def user_agent(self) -> str:
        return self.record.user_agent

    @strawberry.field(description="Who acted (null: the system).")
    def user(self, info: Info) -> UserType | None:
        if self.record.user_id is None:
            return None
        found = load_users(info.context, [self.record.user_id]).get(self.record.user_id)
        return UserType(record=found) if found else None


@strawberry.input
class AuditLogFilter:
    actions: list[str] | None = strawberry.field(
        default=None, description="Actions, or areas ending in a dot (`auth.`)."
    )
    user_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditExportFormat(Enum):
    XLSX = "xlsx"
    CSV = "csv"


strawberry.enum(AuditExportFormat, name="AuditExportFormat")


def _filtered(flt: AuditLogFilter | None) -> Select[Any]:
    stmt = select(AdminEvent)
    if flt is None:
        return stmt
    if flt.actions:
        exact = [a for a in flt.actions if not a.endswith(".")]
        areas = [a for a in flt.actions if a.endswith(".")]
        conditions: list[ColumnElement[bool]] = [AdminEvent.action.in_(exact)] if exact else []
        conditions += [AdminEvent.action.startswith(a, autoescape=True) for a in areas]
        stmt = stmt.where(or_(*conditions))
    if flt.user_id is not None:
        stmt = stmt.where(AdminEvent.user_id == parse_global_id(flt.user_id, "User", "userId"))
    if flt.since is not None:
        stmt = stmt.where(AdminEvent.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AdminEvent.at < flt.until)
    return stmt


@guarded(
    permission=VIEW_AUDIT,
    description="The organisation audit log, newest first: administrators' actions, "
    "sign-ins and failed sign-ins, second-factor changes, exports.",
)
def audit_log(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    filter: AuditLogFilter | None = None,
) -> Connection[AuditLogEntry]:
    ctx = info.context
    ctx.require_caller()
    stmt = _filtered(filter)
    page = keyset_page(
        ctx.session,
        stmt,
        AdminEvent.id,
        AdminEvent.id,
        first=page_size(first, ctx.gateway.settings),
        after=after,
        descending=True,
    )
    load_users(ctx, sorted({r.user_id for r in page.rows if r.user_id is not None}))

    def count() -> int:
        return int(ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    listed = Listed(page.rows, page.cursors, page.has_next, page.has_previous, count)
    return Connection.of(listed, lambda r: AuditLogEntry(record=r))


HEADER = ["When (UTC)", "User", "Action", "Target", "Details", "Address", "Client"]


@guarded(
    permission=VIEW_AUDIT,
    description=f"The audit log as a spreadsheet (XLSX or CSV), oldest first; at most "
    f"{MAX_EXPORT:,} entries (narrow the period for more). The export is itself logged.",
)
def export_audit_log(
    info: Ctx,
    filter: AuditLogFilter | None = None,
    format: AuditExportFormat = AuditExportFormat.XLSX,
) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    rows = list(
        ctx.session.execute(
            _filtered(filter)
            .outerjoin(User, User.id == AdminEvent.user_id)
            .add_columns(User.email)
            .order_by(AdminEvent.id)
            .limit(MAX_EXPORT + 1)
        )
    )
    if len(rows) > MAX_EXPORT:
        raise BadUserInput(f"more than {MAX_EXPORT:,} entries: narrow the period", field="filter")
    table = [
        [
            event.at.replace(tzinfo=None),
            email or "",
            event.action,
            event.target,
            json.dumps(event.details, ensure_ascii=False, sort_keys=True),
            event.client_address,
            event.user_agent,
        ]
        for event, email in rows
    ]
    if format is AuditExportFormat.CSV:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(
            [[c.isoformat() if isinstance(c, datetime) else c for c in r] for r in table]
        )
        content, mime, name = out.getvalue().encode(), "text/csv", "audit-log.csv"
    else:
        book = new_workbook()
        add_sheet(book, "Audit log", HEADER, table)
        content, mime, name = to_bytes(book), XLSX_MIME, "audit-log.xlsx"
    log_export(ctx, name, len(table))
    return ExportFile(
        filename=name, mime_type=mime, content_base64=base64.b64encode(content).decode()
    )


QUERY_FIELDS = [audit_log, export_audit_log]
