"""The invoices list on the kernel's fast path (:mod:`gateway.shaping`): the invoice's plain
columns, its owner and its client (joined with the caller's criteria on contacts).
The consignee (shown only when it is not the client), the lines, the amounts derived from
them and the linked opportunity take the general path.
tests/test_shaped_lists.py compares the shaped answers with the general path's."""

from __future__ import annotations

from gateway.sdk import shaping
from plugins.contacts.shaped_list import CONTACT_TARGET
from plugins.invoices.models import Invoice

USER = shaping.USER
Contact = CONTACT_TARGET.model
I = Invoice  # noqa: E741

INVOICE = shaping.Entity(
    "Invoice",
    Invoice,
    {
        "id": shaping.node_id("Invoice", I.id),
        "number": shaping.column(I.number_text),
        "status": shaping.column(I.status),
        "seriesId": shaping.node_id("InvoiceSeries", I.series_id),
        "issueDate": shaping.column(I.issue_date),
        "dueTerm": shaping.column(I.due_term),
        "dueDate": shaping.column(I.due_date),
        "billingAddress": shaping.column(I.billing_address),
        "deliveryAddress": shaping.column(I.delivery_address),
        "language": shaping.column(I.language),
        "currency": shaping.column(I.currency),
        "orderNumber": shaping.column(I.order_number),
        "terms": shaping.column(I.terms),
        "access": shaping.access_level(I.access),
        "issuedAt": shaping.column(I.issued_at),
        "sentAt": shaping.column(I.sent_at),
        "paidAt": shaping.column(I.paid_at),
        "createdAt": shaping.column(I.created_at),
        "updatedAt": shaping.column(I.updated_at),
    },
    {
        "owner": shaping.ToOne(USER, lambda invoice, user: user.id == invoice.owner_id),
        "client": shaping.ToOne(
            CONTACT_TARGET, lambda invoice, contact: contact.id == invoice.contact_id
        ),
    },
)
