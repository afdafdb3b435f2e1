"""What the leads services share: the entity names events use, and which GraphQL fields a
change writes (for the caller's field rules)."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.sdk import (
    CallerContext,
    check_writable_fields,
)

LEAD = "lead"
OPPORTUNITY = "opportunity"

# -- leads: writing ---------------------------------------------------------------------------

#: Service attribute → the GraphQL fields it writes, per type: what field rules refer to
#: (fields derived from these, such as the weighted amount, follow from the schema's
#: ``@derivedFrom``). Attributes not listed write the field of the same name.
WRITES: dict[str, dict[str, tuple[str, ...]]] = {
    "Lead": {
        "owner_id": ("owner",),
        "contact_id": ("contact",),
        "company_contact_id": ("companyContact",),
    },
    "Opportunity": {
        "owner_id": ("responsible",),
        "contact_id": ("contact",),
        "budget_type": ("budget", "Budget.type"),
        "budget_count": ("budget", "Budget.count"),
        "amount": ("budget", "Budget.amount"),
        "currency": ("budget", "Budget.currency"),
        "stage_id": ("stage",),
        "custom_fields": ("customFields", "CustomFieldValue.value"),
    },
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def written_fields(type_name: str, keys: Iterable[str]) -> set[str]:
    """The GraphQL fields of ``type_name`` (or qualified ones) that changing ``keys`` writes."""
    names = WRITES.get(type_name, {})
    return {field for key in keys for field in names.get(key, (_camel(key),))}


def check_fields(ctx: CallerContext, type_name: str, keys: Iterable[str]) -> None:
    """Refuse changing fields the caller's effective rules make read-only (or hidden)."""
    check_writable_fields(ctx.access, type_name, written_fields(type_name, keys))
