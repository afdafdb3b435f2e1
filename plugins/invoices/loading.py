"""What the invoices' root fields share: the context type, eager loading, the list's filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    CallerContext,
    RequestContext,
    load_users,
    parse_global_id,
    refers_to_visible,
    selected,
)
from plugins.contacts import api as contacts_api
from plugins.contacts.models import Contact
from plugins.invoices import opportunities, services
from plugins.invoices.inputs import (
    InvoiceFilterInput,
)
from plugins.invoices.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)

Ctx = Info[RequestContext, None]


def loader_options(info: Ctx, *path: str) -> list[Any]:
    """Eager loads for the selected fields only: one query per relation, never per row.
    The client's own fields reuse the contacts module's loader options."""
    names = selected(info, *path)
    options: list[Any] = []
    if names & {"lines", "taxes"}:
        options.append(
            selectinload(Invoice.lines, chunksize=BATCH).selectinload(
                InvoiceLine.taxes, chunksize=BATCH
            )
        )
    for field, relation in (("client", Invoice.client), ("consignee", Invoice.consignee)):
        if field in names:
            nested = contacts_api.loader_options(selected(info, *path, field))
            options.append(selectinload(relation, chunksize=BATCH).options(*nested))
    return options


def _prime(ctx: CallerContext, info: Ctx, rows: list[Invoice], *path: str) -> None:
    """Linked opportunities in one query; then the users shown — owners of the invoices, of
    their clients and consignees, and the opportunities' responsible users — in another."""
    names = selected(info, *path)
    linked = {r.opportunity_id for r in rows}
    if names & {"opportunity", "opportunityId"}:
        opportunities.prime(ctx, linked)
    owners: set[int | None] = {r.owner_id for r in rows} if "owner" in names else set()
    if "opportunity" in names and "responsible" in selected(info, *path, "opportunity"):
        owners |= opportunities.owners_of(ctx, linked)
    if "client" in names and "owner" in selected(info, *path, "client"):
        owners |= {r.client.owner_id for r in rows if r.client is not None}
    if "consignee" in names and "owner" in selected(info, *path, "consignee"):
        owners |= {r.consignee.owner_id for r in rows if r.consignee is not None}
    owners.discard(None)
    if owners:
        load_users(ctx, sorted(o for o in owners if o is not None))


def _filtered(ctx: CallerContext, flt: InvoiceFilterInput | None) -> Any:
    stmt = select(Invoice)
    if flt is None:
        return stmt
    statuses = flt.statuses()
    if statuses:
        stmt = stmt.where(Invoice.status.in_(statuses))
    if flt.client_id:
        client_id = parse_global_id(flt.client_id, "Contact", "filter.clientId")
        stmt = stmt.where(refers_to_visible(ctx.access, Invoice.contact_id, Contact, client_id))
    if flt.mine:
        stmt = stmt.where(Invoice.owner_id == ctx.user_id)
    if flt.overdue:
        today = services.tenant_today(ctx.session, ctx.tenant_id)
        stmt = stmt.where(Invoice.status == InvoiceStatus.BILLED, Invoice.due_date < today)
    if flt.issued_from:
        stmt = stmt.where(Invoice.issue_date >= flt.issued_from)
    if flt.issued_to:
        stmt = stmt.where(Invoice.issue_date <= flt.issued_to)
    if flt.search and flt.search.strip():
        text = flt.search.strip()
        stmt = stmt.where(
            or_(
                Invoice.number_text.contains(text, autoescape=True),
                Invoice.order_number.contains(text, autoescape=True),
            )
        )
    return stmt
