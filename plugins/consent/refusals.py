"""``crm_email_refusals``: which clients must not be emailed (MISSION K4, K5).

The rule:

1. A **blocked** client (denied, or withdrew consent) is refused.
2. A client covered by an **enabled client configuration** (its category and kind, and —
   when the configuration names managing companies — assigned to one of them) is refused
   unless it has **accepted** a request of one of the configurations that cover it.
3. Any other client is not refused: no configuration says consent is needed for it, and
   this module knows nothing against mailing it.

A **lead** (entity ``lead``, read through the plugin registry, never the leads module's
code) is judged by its address, case-insensitively: it is refused when the address is one
of a blocked client's addresses, or when the last answer the ledger holds for that address
is a denial or a withdrawal (a later acceptance clears it). Leads are never asked for
consent themselves, so rule 2 does not apply to them. The reason names no client: the
sender may not be allowed to see the client whose address it is.

Switching the consent module off switches these refusals off too (its hooks do not run).
A few statements for the whole batch (blocks, configurations with their companies, contacts,
assignments, acceptances), whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import func, select

from gateway.sdk import CallerContext
from plugins.consent.models import (
    Audience,
    ConsentBlock,
    ConsentConfiguration,
    ConsentRequest,
    LedgerEntry,
    LedgerEvent,
    RequestStatus,
)
from plugins.consent.requests import applies
from plugins.contacts.models import Contact, ContactAssignment, ContactEmail

BLOCK_REASONS = {
    "DENIED": "blocked (GDPR): the client declined consent",
    "WITHDRAWN": "blocked (GDPR): the client withdrew consent",
}
NO_CONSENT = "no consent: the client has not accepted a consent request"


LEAD_BLOCKED = "blocked (GDPR): this address belongs to a client blocked for email"
LEAD_ANSWERS = {
    LedgerEvent.DENIED: "blocked (GDPR): this address declined consent",
    LedgerEvent.WITHDRAWN: "blocked (GDPR): this address withdrew consent",
}


def refusals(ctx: CallerContext, entity: str, record_ids: Sequence[int]) -> Mapping[int, str]:
    if not record_ids:
        return {}
    if entity == "lead":
        return lead_refusals(ctx, record_ids)
    if entity != "contact":
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
    for asked_id, configuration_id in session.execute(
        select(ConsentRequest.contact_id, ConsentRequest.configuration_id).where(
            ConsentRequest.tenant_id == tenant_id,
            ConsentRequest.contact_id.in_(rest),
            ConsentRequest.status == RequestStatus.ACCEPTED,
        )
    ):
        if asked_id is not None:
            accepted[asked_id].add(configuration_id)
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


def lead_refusals(ctx: CallerContext, record_ids: Sequence[int]) -> Mapping[int, str]:
    """Leads whose address a blocked client holds or whose last recorded answer refused
    consent; three statements for the batch. Blocks and answers are read whatever the
    sender may see of the client: a refusal is never lifted by not seeing its client."""
    entity = ctx.gateway.registry.entities.get("lead")
    if entity is None:
        return {}
    model = entity.model
    session, tenant_id = ctx.session, ctx.tenant_id
    addresses: dict[int, str] = {
        lead_id: address.strip().lower()
        for lead_id, address in session.execute(
            select(model.id, model.email).where(model.id.in_(set(record_ids)))
        )
        if address and address.strip()
    }
    wanted = sorted(set(addresses.values()))
    if not wanted:
        return {}
    blocked = set(
        session.scalars(
            select(func.lower(ContactEmail.address))
            .join(ConsentBlock, ConsentBlock.contact_id == ContactEmail.contact_id)
            .where(
                ConsentBlock.tenant_id == tenant_id,
                func.lower(ContactEmail.address).in_(wanted),
            )
        )
    )
    last_answer: dict[str, LedgerEvent] = {}
    for address, event in session.execute(
        select(func.lower(LedgerEntry.recipient), LedgerEntry.event)
        .where(
            LedgerEntry.tenant_id == tenant_id,
            LedgerEntry.event.in_(
                [LedgerEvent.ACCEPTED, LedgerEvent.DENIED, LedgerEvent.WITHDRAWN]
            ),
            func.lower(LedgerEntry.recipient).in_(wanted),
        )
        .order_by(LedgerEntry.at, LedgerEntry.id)
    ):
        last_answer[address] = event
    refused: dict[int, str] = {}
    for lead_id, address in addresses.items():
        reason = LEAD_BLOCKED if address in blocked else None
        answered = last_answer.get(address)
        if reason is None and answered is not None:
            reason = LEAD_ANSWERS.get(answered)
        if reason is not None:
            refused[lead_id] = reason
    return refused
