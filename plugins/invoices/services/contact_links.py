"""What invoices do when contacts are deleted or merged (other modules' events)."""

from __future__ import annotations

from sqlalchemy import exists, or_, select, update

from gateway.sdk import SYSTEM, CallerContext, audit
from plugins.contacts.models import Contact
from plugins.invoices.models import (
    Invoice,
)
from plugins.invoices.services.common import _system

# -- other modules' events ----------------------------------------------------------------


def contact_has_invoices(context: CallerContext, contact: Contact) -> bool:
    """Whether any invoice of the tenant (visible to the caller or not) names the contact."""
    return bool(
        context.session.scalar(
            _system(
                select(
                    exists().where(
                        Invoice.tenant_id == contact.tenant_id,
                        or_(Invoice.contact_id == contact.id, Invoice.consignee_id == contact.id),
                    )
                )
            )
        )
    )


def move_contact_invoices(context: CallerContext, kept: Contact, merged: Contact) -> None:
    """Re-point every invoice of the merged contact (as client or consignee) to the kept one."""
    session = context.session
    for column in (Invoice.contact_id, Invoice.consignee_id):
        audit.relink(session, column, merged.tenant_id, merged.id, kept.id, **{SYSTEM: True})
    session.execute(
        _system(
            update(Invoice)
            .where(
                Invoice.tenant_id == kept.tenant_id,
                Invoice.consignee_id == kept.id,
                Invoice.contact_id == kept.id,
            )
            .values(consignee_same=True)
        )
    )
