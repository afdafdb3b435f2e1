"""``crm_email_refusals``: which clients must not be emailed (MISSION K4, K5).

The rule:

1. A **blocked** client (denied, or withdrew consent) is refused.
2. A client covered by an **enabled client configuration** (its category and kind, and —
   when the configuration names managing companies — assigned to one of them) is refused
   unless it has **accepted** a request of one of the configurations that cover it.
3. Any other client is not refused: no configuration says consent is needed for it, and
   this module knows nothing against mailing it.

Switching the consent module off switches these refusals off too (its hooks do not run).
A few statements for the whole batch (blocks, configurations with their companies, contacts,
assignments, acceptances), whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import select

from gateway.sdk import CallerContext
from plugins.consent.models import (
    Audience,
    ConsentBlock,
    ConsentConfiguration,
    ConsentRequest,
    RequestStatus,
)
from plugins.consent.requests import applies
from plugins.contacts.models import Contact, ContactAssignment

BLOCK_REASONS = {
    "DENIED": "blocked (GDPR): the client declined consent",
    "WITHDRAWN": "blocked (GDPR): the client withdrew consent",
}
NO_CONSENT = "no consent: the client has not accepted a consent request"


def refusals(ctx: CallerContext, entity: str, record_ids: Sequence[int]) -> Mapping[int, str]:
    if entity != "contact" or not record_ids:
        return {}
    session, ids = ctx.session, list(set(record_ids))
    tenant_id = ctx.tenant_id
    refused: dict[int, str] = {
        contact_id: BLOCK_REASONS.get(reason, BLOCK_REASONS["DENIED"])
        for contact_id, reason in session.execute(
            select(ConsentBlock.contact_id, ConsentBlock.reason).where(
                ConsentBlock.tenant_id == tenant_id, ConsentBlock.contact_id.in_(ids)
            )
        )
    }
    configs = list(
        session.scalars(
            select(ConsentConfiguration).where(
                ConsentConfiguration.tenant_id == tenant_id,
                ConsentConfiguration.enabled.is_(True),
                ConsentConfiguration.audience == Audience.CLIENT,
            )
        )
    )
    rest = [i for i in ids if i not in refused]
    if not configs or not rest:
        return refused
    contacts = list(session.scalars(select(Contact).where(Contact.id.in_(rest))))
    assigned: dict[int, set[int]] = defaultdict(set)
    for contact_id, company_id in session.execute(
        select(ContactAssignment.contact_id, ContactAssignment.company_id).where(
            ContactAssignment.contact_id.in_(rest)
        )
    ):
        assigned[contact_id].add(company_id)
    accepted: dict[int, set[int]] = defaultdict(set)
    for contact_id, configuration_id in session.execute(
        select(ConsentRequest.contact_id, ConsentRequest.configuration_id).where(
            ConsentRequest.tenant_id == tenant_id,
            ConsentRequest.contact_id.in_(rest),
            ConsentRequest.status == RequestStatus.ACCEPTED,
        )
    ):
        accepted[contact_id].add(configuration_id)
    for contact in contacts:
        covering = [
            c
            for c in configs
            if applies(c, contact)
            and (not c.company_ids or set(c.company_ids) & assigned[contact.id])
        ]
        if covering and not {c.id for c in covering} & accepted[contact.id]:
            refused[contact.id] = NO_CONSENT
    return refused
