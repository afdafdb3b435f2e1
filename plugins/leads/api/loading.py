"""Eager loading for the leads module's root fields: one query per relation, never per row."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import selectinload
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    CallerContext,
    RequestContext,
    load_users,
    selected,
)
from plugins.contacts import api as contacts_api
from plugins.leads.models import Lead, Opportunity

Ctx = Info[RequestContext, None]


# -- eager loading (one query per relation, never per row) -------------------------------------


def _contact_options(info: Ctx, *path: str) -> list[Any]:
    return contacts_api.loader_options(selected(info, *path))


def lead_options(info: Ctx, *path: str) -> list[Any]:
    names = selected(info, *path)
    options: list[Any] = []
    if "contact" in names:
        options.append(
            selectinload(Lead.contact, chunksize=BATCH).options(
                *_contact_options(info, *path, "contact")
            )
        )
    if "companyContact" in names:
        options.append(
            selectinload(Lead.company_contact, chunksize=BATCH).options(
                *_contact_options(info, *path, "companyContact")
            )
        )
    return options


def prime_lead_users(ctx: CallerContext, info: Ctx, leads: list[Lead], *path: str) -> None:
    """The owners a page shows (the leads' and their contacts'), in one query."""
    names = selected(info, *path)
    ids: set[int | None] = {x.owner_id for x in leads} if "owner" in names else set()
    for relation, attr in (("contact", "contact"), ("companyContact", "company_contact")):
        if relation in names and "owner" in selected(info, *path, relation):
            ids |= {getattr(x, attr).owner_id for x in leads if getattr(x, attr) is not None}
    ids.discard(None)
    if ids:
        load_users(ctx, sorted(i for i in ids if i is not None))


def opportunity_options(info: Ctx, *path: str) -> list[Any]:
    names = selected(info, *path)
    options: list[Any] = []
    if "contact" in names:
        options.append(
            selectinload(Opportunity.contact, chunksize=BATCH).options(
                *_contact_options(info, *path, "contact")
            )
        )
    if "stageHistory" in names:
        options.append(selectinload(Opportunity.stage_changes, chunksize=BATCH))
    if "customFields" in names:
        options.append(selectinload(Opportunity.custom_values, chunksize=BATCH))
    return options


def prime_opportunity_users(
    ctx: CallerContext, info: Ctx, opps: list[Opportunity], *path: str
) -> None:
    names = selected(info, *path)
    ids: set[int | None] = {o.owner_id for o in opps} if "responsible" in names else set()
    if "stageHistory" in names and "changedBy" in selected(info, *path, "stageHistory"):
        ids |= {c.changed_by_id for o in opps for c in o.stage_changes}
    if "contact" in names and "owner" in selected(info, *path, "contact"):
        ids |= {o.contact.owner_id for o in opps if o.contact is not None}
    ids.discard(None)
    if ids:
        load_users(ctx, sorted(i for i in ids if i is not None))
