"""The invoices module's answer to the calendar's ``crm_timeline_events``: a client's
invoices issued and paid, only those the caller may see (the statement runs through the
caller's session, so record access applies), and only kinds whose fields the caller may read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from gateway.sdk import CallerContext, unreadable_fields
from plugins.invoices.models import Invoice, InvoiceStatus

if TYPE_CHECKING:
    from plugins.calendar.history.window import TimelineEvent, TimelineWindow

ISSUED = "invoice.issued"
PAID = "invoice.paid"


def events(ctx: CallerContext, window: TimelineWindow) -> list[TimelineEvent]:
    hidden = unreadable_fields(ctx, "Invoice", ["client", "issuedAt", "paidAt", "status"])
    if "client" in hidden:
        return []  # the link to the contact is what the timeline would show
    found: list[TimelineEvent] = []
    source: Any = select().select_from(Invoice)
    if "issuedAt" not in hidden:
        found += window.collect(
            ctx,
            ISSUED,
            source,
            contact=Invoice.contact_id,
            at=Invoice.issued_at,
            id=Invoice.id,
            subject_type="Invoice",
        )
    if not {"paidAt", "status"} & hidden:
        found += window.collect(
            ctx,
            PAID,
            source.where(Invoice.status == InvoiceStatus.PAID),
            contact=Invoice.contact_id,
            at=Invoice.paid_at,
            id=Invoice.id,
            subject_type="Invoice",
        )
    return found
