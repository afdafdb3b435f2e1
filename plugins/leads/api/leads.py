"""Root fields for leads: the lists ("unmanaged", "my leads"), one lead, and the lead
mutations (claim, conversion, closing)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, cast

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import (
    Connection,
    Direction,
    Order,
    Window,
    filter_reads,
    get_writable,
    mutate,
    parse_global_id,
    shaping,
    text_argument,
)
from plugins.leads import services
from plugins.leads.api.loading import (
    Ctx,
    lead_options,
    prime_lead_users,
)
from plugins.leads.inputs import (
    LEAD_FILTER_READS,
    LEAD_SORT_READS,
    ConvertLeadInput,
    CreateLeadInput,
    LeadFilterInput,
    LeadOrder,
    UpdateLeadInput,
)
from plugins.leads.models import Lead
from plugins.leads.services import LeadFilter
from plugins.leads.shaped_list import LEAD
from plugins.leads.types import (
    DeleteLeadPayload,
    LeadNode,
    LeadPayload,
)

# -- lead queries -----------------------------------------------------------------------------


@strawberry.enum(description="Which leads: all you may see, unmanaged ones, or yours.")
class LeadView(Enum):
    ALL = "ALL"
    UNMANAGED = "UNMANAGED"
    MINE = "MINE"


def _lead_page(
    info: Ctx,
    view: LeadView,
    window: Window,
    filter: LeadFilterInput | None,
    order_by: LeadOrder | None,
) -> Connection[LeadNode]:
    ctx = info.context
    ctx.require_caller()
    base = LeadFilter(unmanaged=view is LeadView.UNMANAGED, mine=view is LeadView.MINE)
    flt = filter.to_filter(base) if filter else base
    sort = (order_by or LeadOrder()).field.value
    order = Order(
        getattr(Lead, sort),
        (order_by or LeadOrder()).direction == Direction.DESC,
        LEAD_SORT_READS[sort],
    )
    reads = filter_reads(filter, LEAD_FILTER_READS)
    shaped = shaping.shaped_page(
        info,
        LEAD,
        services.leads_query(ctx.require_caller().user_id, flt),
        order=order,
        window=window,
        filter_reads=reads,
    )
    if shaped is not None:
        return cast(Connection[LeadNode], shaped)
    listed = services.list_leads(
        ctx,
        flt,
        order=order,
        window=window,
        filter_reads=reads,
        options=lead_options(info, "edges", "node"),
    )
    prime_lead_users(ctx, info, listed.rows, "edges", "node")
    return Connection.of(listed, lambda r: LeadNode(record=r))


@strawberry.field(description="Leads you may see (newest first by default).")
def leads(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    view: LeadView = LeadView.ALL,
    filter: LeadFilterInput | None = None,
    order_by: LeadOrder | None = None,
) -> Connection[LeadNode]:
    window = Window.of(info.context.gateway.settings, first, after, last, before)
    return _lead_page(info, view, window, filter, order_by)


@strawberry.field(
    description='The "unmanaged" tab: leads nobody works yet; claim one with claimLead.'
)
def unmanaged_leads(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: LeadFilterInput | None = None,
    order_by: LeadOrder | None = None,
) -> Connection[LeadNode]:
    window = Window.of(info.context.gateway.settings, first, after, last, before)
    return _lead_page(info, LeadView.UNMANAGED, window, filter, order_by)


@strawberry.field(
    description='The "my leads" tab: the leads you work (all statuses unless filtered).'
)
def my_leads(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: LeadFilterInput | None = None,
    order_by: LeadOrder | None = None,
) -> Connection[LeadNode]:
    window = Window.of(info.context.gateway.settings, first, after, last, before)
    return _lead_page(info, LeadView.MINE, window, filter, order_by)


@strawberry.field(description="One lead, or null if it does not exist or is not yours to see.")
def lead(info: Ctx, id: strawberry.ID) -> LeadNode | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.scalar(
        select(Lead).where(Lead.id == parse_global_id(id, "Lead")).options(*lead_options(info))
    )
    if found is None:
        return None
    prime_lead_users(ctx, info, [found])
    return LeadNode(record=found)


# -- lead mutations ---------------------------------------------------------------------------


def _lead_payload(result: Lead) -> LeadPayload:
    return LeadPayload(lead=LeadNode(record=result))


@strawberry.mutation(
    description='Add a lead: from "unmanaged" (`unmanaged: true`) it has no owner; from '
    '"my leads" it is yours.'
)
def create_lead(info: Ctx, input: CreateLeadInput) -> LeadPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Lead:
        return services.create_lead(
            ctx, input.to_data(), unmanaged=input.unmanaged, owner_id=input.owner()
        )

    return mutate(ctx, LeadPayload, work, _lead_payload)


@strawberry.mutation(description="Change an open lead you may change.")
def update_lead(info: Ctx, id: strawberry.ID, input: UpdateLeadInput) -> LeadPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Lead:
        found = get_writable(session, Lead, parse_global_id(id, "Lead"), "lead")
        return services.update_lead(ctx, found, input.to_data())

    return mutate(ctx, LeadPayload, work, _lead_payload)


@strawberry.mutation(
    description="Assign to me: the unmanaged lead becomes yours. Of concurrent claims exactly "
    "one wins; the others get CONFLICT."
)
def claim_lead(info: Ctx, id: strawberry.ID) -> LeadPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Lead:
        return services.claim_lead(ctx, parse_global_id(id, "Lead"))

    return mutate(ctx, LeadPayload, work, _lead_payload)


@strawberry.mutation(
    description="Close a lead by creating its contact(s) — a person, its company, or both, "
    "linked — all or nothing."
)
def convert_lead(
    info: Ctx, id: strawberry.ID, input: ConvertLeadInput | None = None
) -> LeadPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Lead:
        found = services.writable_open_lead(ctx, parse_global_id(id, "Lead"))
        return services.convert_lead(ctx, found, (input or ConvertLeadInput()).to_conversion())

    return mutate(ctx, LeadPayload, work, _lead_payload)


@strawberry.mutation(description="Close a lead as unsuitable, saying why.")
def mark_lead_unsuitable(
    info: Ctx, id: strawberry.ID, reason: Annotated[str, text_argument(2000, multiline=True)]
) -> LeadPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Lead:
        found = services.writable_open_lead(ctx, parse_global_id(id, "Lead"))
        return services.mark_unsuitable(ctx, found, reason)

    return mutate(ctx, LeadPayload, work, _lead_payload)


@strawberry.mutation
def delete_lead(info: Ctx, id: strawberry.ID) -> DeleteLeadPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        found = get_writable(session, Lead, parse_global_id(id, "Lead"), "lead")
        services.delete_lead(ctx, found)

    return mutate(ctx, DeleteLeadPayload, work, lambda _: DeleteLeadPayload(deleted_id=id))
