"""The leads and opportunities lists on the kernel's fast path (:mod:`gateway.shaping`):
plain fields derived from the field tables (``plugins.leads.fields``), the owner or
responsible user, the stage and the contact joined, the budget read from the row.
tests/test_shaped_lists.py compares the shaped answers with the general path's."""

from __future__ import annotations

from typing import Any

from gateway.sdk import shaping
from plugins.contacts.shaped_list import CONTACT_TARGET
from plugins.leads.fields import LEAD_FIELDS, OPPORTUNITY_FIELDS
from plugins.leads.models import Lead, Opportunity, OpportunityStage

USER = shaping.USER
Contact = CONTACT_TARGET.model


def _or_none(v: tuple[Any, ...]) -> Any:
    return v[0] or None


LEAD = shaping.Entity(
    "Lead",
    Lead,
    {
        **shaping.table_fields(Lead, LEAD_FIELDS),
        "id": shaping.node_id("Lead", Lead.id),
        "unsuitableReason": shaping.typed((Lead.unsuitable_reason,), _or_none),
        "createdAt": shaping.column(Lead.created_at),
        "updatedAt": shaping.column(Lead.updated_at),
        "closedAt": shaping.column(Lead.closed_at),
    },
    {
        "owner": shaping.ToOne(USER, lambda lead, user: user.id == lead.owner_id),
        # Both point at contacts: one join per model, so a selection of both is not shaped.
        "contact": shaping.ToOne(
            CONTACT_TARGET, lambda lead, contact: contact.id == lead.contact_id
        ),
        "companyContact": shaping.ToOne(
            CONTACT_TARGET, lambda lead, contact: contact.id == lead.company_contact_id
        ),
    },
)

STAGE = shaping.Entity(
    "OpportunityStage",
    OpportunityStage,
    {
        "id": shaping.node_id("OpportunityStage", OpportunityStage.id),
        "name": shaping.column(OpportunityStage.name),
        "position": shaping.column(OpportunityStage.position),
        "probability": shaping.column(OpportunityStage.probability),
        "won": shaping.column(OpportunityStage.is_won),
        "lost": shaping.column(OpportunityStage.is_lost),
    },
)


def _total(v: tuple[Any, ...]) -> Any:
    amount, count = v
    return None if amount is None else format(amount * count, "f")


BUDGET = shaping.Embedded(
    "Budget",
    {
        "currency": shaping.column(Opportunity.currency),
        "amount": shaping.column(Opportunity.amount),
        "type": shaping.column(Opportunity.budget_type),
        "count": shaping.column(Opportunity.budget_count),
        "total": shaping.typed((Opportunity.amount, Opportunity.budget_count), _total),
    },
)

#: Shown under ``budget`` (its parts), or needing full access (``description``).
_NOT_PLAIN = ("description", "budgetType", "budgetCount", "amount", "currency")

OPPORTUNITY = shaping.Entity(
    "Opportunity",
    Opportunity,
    {
        **shaping.table_fields(Opportunity, OPPORTUNITY_FIELDS, skip=_NOT_PLAIN),
        "id": shaping.node_id("Opportunity", Opportunity.id),
        "createdAt": shaping.column(Opportunity.created_at),
        "updatedAt": shaping.column(Opportunity.updated_at),
        "closedAt": shaping.column(Opportunity.closed_at),
    },
    {
        "responsible": shaping.ToOne(
            USER, lambda opportunity, user: user.id == opportunity.owner_id
        ),
        "stage": shaping.ToOne(STAGE, lambda opportunity, stage: stage.id == opportunity.stage_id),
        "contact": shaping.ToOne(
            CONTACT_TARGET, lambda opportunity, contact: contact.id == opportunity.contact_id
        ),
        "budget": BUDGET,
    },
)
