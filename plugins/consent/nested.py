"""``Contact.consent`` (``crm_type_fields``): a client's consent state and requests on the
client itself, present only where the consent module is on. A page of contacts costs two
statements (requests and blocks of every contact of the page), whatever its size."""

from __future__ import annotations

from collections import defaultdict
from typing import TypeAlias

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from gateway.sdk import (
    CallerContext,
    RequestContext,
    TypeField,
    global_id,
    guarded,
)
from plugins.consent.models import ConsentBlock, ConsentRequest
from plugins.consent.permissions import ConsentPermission as P
from plugins.consent.types import ClientConsent, ConsentBlockType, ConsentRequestType
from plugins.contacts.models import Contact
from plugins.contacts.types import ContactNode

Ctx: TypeAlias = Info[RequestContext, None]


def consent_of_contacts(ctx: CallerContext, contact_ids: list[int]) -> dict[int, ClientConsent]:
    """Blocks and requests (newest first) of these contacts, through a join on the contact
    (its visibility applies), in two statements."""
    requests: dict[int, list[ConsentRequest]] = defaultdict(list)
    for request in ctx.session.scalars(
        select(ConsentRequest)
        .join(Contact, Contact.id == ConsentRequest.contact_id)
        .where(ConsentRequest.contact_id.in_(contact_ids))
        .order_by(ConsentRequest.contact_id, ConsentRequest.id.desc())
    ):
        if request.contact_id is not None:  # (the IN above: always)
            requests[request.contact_id].append(request)
    blocks = {
        block.contact_id: block
        for block in ctx.session.scalars(
            select(ConsentBlock)
            .join(Contact, Contact.id == ConsentBlock.contact_id)
            .where(ConsentBlock.contact_id.in_(contact_ids))
        )
    }
    return {
        contact_id: ClientConsent(
            contact_id=strawberry.ID(global_id("Contact", contact_id)),
            blocked=ConsentBlockType(record=blocks[contact_id]) if contact_id in blocks else None,
            requests=[ConsentRequestType(record=r) for r in requests.get(contact_id, [])],
        )
        for contact_id in contact_ids
    }


@guarded(
    name="consent",
    permission=P.REVIEW.value,
    description="The client's consent: its GDPR block and every request sent, per managing "
    "company, newest first.",
)
def contact_consent(root: ContactNode, info: Ctx) -> ClientConsent | None:
    ctx = info.context  # @requires is checked before execution (gateway.access.guard)
    loader = ctx.nested_loader(
        "consent.contact_consent", Contact, lambda ids: consent_of_contacts(ctx, ids)
    )
    found = loader.get(root.record.id)
    assert found is not None
    return found


FIELDS = [TypeField("Contact", contact_consent)]
