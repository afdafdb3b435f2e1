"""The clients blocked for email (K4), as a list and an export for reviewers.

Both read ``consent_blocks`` joined to the client, so the client's visibility predicate
decides what is listed (SQL, never a filter after the fetch), and filter by managing
company through the client's assignments. The list's nodes are the clients themselves
(``Contact``), so every field rule applies as anywhere else; the export leaves out the
columns whose fields the caller's profile may not read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import contains_eager, selectinload

from gateway.sdk import (
    XLSX_MIME,
    CallerContext,
    add_sheet,
    companies,
    new_workbook,
    to_bytes,
    unreadable_fields,
)
from plugins.consent.ledger import CSV_MIME, EXPORT_LIMIT, as_csv_rows
from plugins.consent.models import ConsentBlock
from plugins.contacts.models import Contact, ContactAssignment


def blocked_clients(ctx: CallerContext, company_id: int | None) -> Select[Any]:
    """Blocks of the clients the caller may see, of one managing company's clients if
    given (``NOT_FOUND`` on ``companyId`` for a company not of the organisation)."""
    stmt = (
        select(ConsentBlock)
        .join(ConsentBlock.contact)
        .options(contains_eager(ConsentBlock.contact))
    )
    if company_id is not None:
        companies.get_company(ctx.session, ctx.tenant_id, company_id, "companyId")
        stmt = stmt.where(
            exists().where(
                ContactAssignment.contact_id == ConsentBlock.contact_id,
                ContactAssignment.company_id == company_id,
            )
        )
    return stmt


#: (header, the Contact fields it shows, value)
COLUMNS: list[tuple[str, tuple[str, ...], Any]] = [
    ("Client ID", (), lambda b: b.contact_id),
    ("Client", ("displayName",), lambda b: b.contact.display_name),
    ("Email", ("email",), lambda b: b.contact.emails[0].address if b.contact.emails else ""),
    ("Reason", (), lambda b: b.reason),
    ("Blocked at (UTC)", (), lambda b: b.blocked_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
]


def export(ctx: CallerContext, company_id: int | None, as_csv: bool) -> tuple[bytes, str]:
    """The blocked clients as xlsx or CSV (content, MIME type): two statements."""
    hidden = unreadable_fields(ctx, "Contact", {f for _, fields, _ in COLUMNS for f in fields})
    shown = [c for c in COLUMNS if not set(c[1]) & hidden]
    stmt = blocked_clients(ctx, company_id).order_by(
        ConsentBlock.blocked_at.desc(), ConsentBlock.id.desc()
    )
    if "email" not in hidden:
        stmt = stmt.options(
            contains_eager(ConsentBlock.contact).options(selectinload(Contact.emails))
        )
    blocks = ctx.session.scalars(stmt.limit(EXPORT_LIMIT)).unique().all()
    header = [name for name, _, _ in shown]
    data: Sequence[Sequence[object]] = [[value(b) for _, _, value in shown] for b in blocks]
    if as_csv:
        return as_csv_rows(header, data), CSV_MIME
    workbook = new_workbook()
    add_sheet(workbook, "Blocked clients", header, data)
    return to_bytes(workbook), XLSX_MIME
