"""The lead import template (MISSION L2, M1): one sheet, its columns taken from the field
table (``LEAD_IMPORT``: labels, required, the GraphQL names field rules read) and its
drop-downs from the tenant, read through the caller's context (lead sources already used on
leads the caller may see, users who may own leads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from gateway.sdk import AccessLevel, Profile, ProfileKind, SheetColumn, SheetTemplate, User
from plugins.leads.fields import LEAD_IMPORT
from plugins.leads.models import Lead


def sources(ctx: Any) -> Sequence[str]:
    """Sources already used on leads the caller may see (the session's predicate)."""
    stmt = select(Lead.source).where(Lead.source != "").distinct().order_by(Lead.source)
    return list(ctx.session.scalars(stmt.limit(2_000)))


def owners(ctx: Any) -> Sequence[str]:
    """Active users of the tenant who may own leads (assistants may not)."""
    stmt = (
        select(User.email)
        .join(Profile, Profile.id == User.profile_id)
        .where(User.is_active.is_(True), Profile.kind != ProfileKind.ASSISTANT)
        .order_by(User.email)
    )
    return list(ctx.session.scalars(stmt))


#: Per field: what the column's comment says and how its cells are chosen.
_SHAPE: dict[str, dict[str, Any]] = {
    "name": {"format": "The person's name"},
    "company": {"format": "The company the person works for"},
    "email": {"kind": "EMAIL", "format": "One email address, e.g. ana@example.com"},
    "phone": {"kind": "PHONE", "format": "One phone number, e.g. +34 600 000 000"},
    "source": {"kind": "CHOICE", "choices_from": sources, "format": "Where the lead came from"},
    "notes": {"format": "Free text"},
    "owner": {
        "kind": "CHOICE",
        "choices_from": owners,
        "format": "The email of the user who works the lead; empty: unmanaged (nobody's yet)",
    },
    "access": {"kind": "CHOICE", "choices": tuple(a.value for a in AccessLevel)},
}

LEADS = SheetTemplate(
    entity="lead",
    variant="",
    title="Leads",
    type_name="Lead",
    description="Potential clients, into the unmanaged leads or straight to a user.",
    columns=tuple(
        SheetColumn(
            header=f.label, key=f.name, required=f.required, reads=f.reads, **_SHAPE[f.name]
        )
        for f in LEAD_IMPORT
    ),
    notes=(
        "One lead per row. Leave a cell empty to leave the value unset.",
        "Rows without an owner become unmanaged leads that anyone may claim.",
    ),
)

TEMPLATES = (LEADS,)
