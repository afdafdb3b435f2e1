"""Opportunities: writing (budget, stage moves with their history, custom fields on
``gateway.customfields``) and reading (filters, the list)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from gateway.sdk import (
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Listed,
    NotFound,
    Order,
    ProfileKind,
    Window,
    customfields,
    events,
    get_user,
    initial_access,
    list_records,
    refers_to_visible,
    utcnow,
)
from plugins.contacts import validation as check
from plugins.contacts.models import Contact
from plugins.leads.models import (
    BudgetType,
    Opportunity,
    OpportunityCustomField,
    OpportunityCustomValue,
    OpportunityStage,
    StageChange,
)
from plugins.leads.services.common import OPPORTUNITY, check_fields
from plugins.leads.services.stages import stages_on_demand

#: Largest budget amount and unit count accepted: a whole budget is at most 1e17
#: ten-thousandths, so one row's budget always fits in 64 bits (see :func:`budget_parts`).
MAX_AMOUNT = Decimal("1000000000")
MAX_COUNT = 10_000

# -- opportunities: writing -------------------------------------------------------------------


@dataclass
class OpportunityData:
    """Opportunity fields the caller set (partial updates); ``custom_fields`` replaces the
    named values."""

    values: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, str | None] | None = None


def _stage(ctx: CallerContext, stage_id: int) -> OpportunityStage:
    stage = ctx.session.get(OpportunityStage, stage_id)
    if stage is None:
        raise NotFound("no such stage", field="stageId")
    return stage


def _apply_opportunity(ctx: CallerContext, opp: Opportunity, data: OpportunityData) -> None:
    v = data.values
    if "title" in v:
        clean = (v["title"] or "").strip()
        if not clean or len(clean) > 200:
            raise BadUserInput("a title of 1 to 200 characters", field="title")
        opp.title = clean
    if "description" in v:
        opp.description = (v["description"] or "").strip()
    if "contact_id" in v:
        contact_id = v["contact_id"]
        if contact_id is not None and ctx.session.get(Contact, contact_id) is None:
            raise NotFound("no such contact", field="contactId")
        opp.contact_id = contact_id
    if "currency" in v:
        opp.currency = check.currency(v["currency"] or "EUR")
    if "amount" in v:
        amount = v["amount"]
        if amount is not None:
            if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
                raise BadUserInput(f"an amount from 0 to {MAX_AMOUNT}", field="budget.amount")
            if amount != amount.quantize(Decimal("0.0001")):
                raise BadUserInput("at most four decimals", field="budget.amount")
            amount = amount.quantize(Decimal("0.0001"))  # as stored: same answer before a reload
        opp.amount = amount
    if "budget_type" in v:
        opp.budget_type = BudgetType(v["budget_type"])
    if "budget_count" in v:
        count = v["budget_count"]
        if count is None or not 1 <= count <= MAX_COUNT:
            raise BadUserInput(f"a count from 1 to {MAX_COUNT}", field="budget.count")
        opp.budget_count = count
    if opp.budget_type is BudgetType.FIXED and opp.budget_count != 1:
        raise BadUserInput("a fixed budget has a count of 1", field="budget.count")
    if "expected_close_date" in v:
        opp.expected_close_date = v["expected_close_date"]
    if "access" in v and v["access"] is not None:
        opp.access = AccessLevel(v["access"]).value
    if "owner_id" in v:
        owner = get_user(ctx.session, ctx.tenant_id, v["owner_id"], "responsibleId")
        if owner.profile.kind is ProfileKind.ASSISTANT:
            raise BadUserInput("assistants cannot be responsible", field="responsibleId")
        opp.owner_id = owner.id


def _move(ctx: CallerContext, opp: Opportunity, stage: OpportunityStage) -> None:
    """Put the opportunity in ``stage`` and record who moved it when."""
    if opp.stage_id == stage.id:
        return
    opp.stage_changes.append(
        StageChange(
            tenant_id=opp.tenant_id,
            from_stage_id=opp.stage_id,
            to_stage_id=stage.id,
            changed_by_id=ctx.user_id,
        )
    )
    opp.stage_id = stage.id
    opp.stage = stage
    opp.closed_at = utcnow() if stage.is_closed else None


def create_opportunity(ctx: CallerContext, data: OpportunityData) -> Opportunity:
    caller = ctx.require_caller()
    stage_id = data.values.pop("stage_id", None)
    stage = _stage(ctx, stage_id) if stage_id is not None else stages_on_demand(ctx)[0]
    opp = Opportunity(
        tenant_id=caller.tenant_id,
        created_by_id=caller.user_id,
        owner_id=None if caller.profile_kind is ProfileKind.ASSISTANT else caller.user_id,
        access=initial_access(ctx, "opportunity"),
        currency="EUR",
        budget_type=BudgetType.FIXED,
        budget_count=1,
        description="",
    )
    opp.stage_changes, opp.custom_values = [], []
    check_fields(ctx, "Opportunity", _touched(data, stage_id))
    if "title" not in data.values:
        raise BadUserInput("an opportunity needs a title", field="title")
    _apply_opportunity(ctx, opp, data)
    if opp.owner_id is None:
        raise BadUserInput("assistants must name the responsible user", field="responsibleId")
    _move(ctx, opp, stage)
    _apply_custom(ctx, opp, data.custom_fields or {})
    _check_required_custom(ctx, opp)
    ctx.session.add(opp)
    events.record_changed(ctx, ChangeKind.CREATED, OPPORTUNITY, opp)
    return opp


def update_opportunity(ctx: CallerContext, opp: Opportunity, data: OpportunityData) -> Opportunity:
    stage_id = data.values.pop("stage_id", None)
    check_fields(ctx, "Opportunity", _touched(data, stage_id))
    _apply_opportunity(ctx, opp, data)
    if stage_id is not None:
        _move(ctx, opp, _stage(ctx, stage_id))
    if data.custom_fields is not None:
        _apply_custom(ctx, opp, data.custom_fields)
    changed = set(data.values) | ({"stage"} if stage_id is not None else set())
    events.record_changed(ctx, ChangeKind.UPDATED, OPPORTUNITY, opp, frozenset(changed))
    return opp


def _touched(data: OpportunityData, stage_id: int | None) -> set[str]:
    """The attributes an opportunity change touches (for field rules)."""
    touched = set(data.values)
    if data.custom_fields is not None:
        touched.add("custom_fields")
    if stage_id is not None:
        touched.add("stage_id")
    return touched


def move_opportunity(ctx: CallerContext, opp: Opportunity, stage_id: int) -> Opportunity:
    check_fields(ctx, "Opportunity", {"stage_id"})
    _move(ctx, opp, _stage(ctx, stage_id))
    events.record_changed(ctx, ChangeKind.UPDATED, OPPORTUNITY, opp, frozenset({"stage"}))
    return opp


def delete_opportunity(ctx: CallerContext, opp: Opportunity) -> None:
    events.ensure_deletable(ctx, OPPORTUNITY, opp)
    ctx.session.delete(opp)
    events.record_changed(ctx, ChangeKind.DELETED, OPPORTUNITY, opp)


# -- opportunity custom fields (typed like the contacts'; the coercion is shared) -----------------


def custom_fields_by_key(session: Session) -> dict[str, OpportunityCustomField]:
    """The tenant's opportunity custom fields by key, in display order."""
    return customfields.definitions(session, OpportunityCustomField)


def _apply_custom(ctx: CallerContext, opp: Opportunity, values: dict[str, str | None]) -> None:
    if not values:
        return
    customfields.apply(
        opp.custom_values,
        values,
        custom_fields_by_key(ctx.session),
        lambda d: OpportunityCustomValue(field=d, field_id=d.id, tenant_id=opp.tenant_id),
    )


def _check_required_custom(ctx: CallerContext, opp: Opportunity) -> None:
    customfields.check_required(opp.custom_values, custom_fields_by_key(ctx.session))


# -- opportunities: reading and the pipeline -----------------------------------------------------


@dataclass
class OpportunityFilter:
    stage_ids: list[int] | None = None
    mine: bool = False
    owner_id: int | None = None
    contact_id: int | None = None
    open: bool | None = None
    search: str | None = None
    closed_after: datetime | None = None
    closed_before: datetime | None = None


def opportunities_query(ctx: CallerContext, flt: OpportunityFilter) -> Select[Opportunity]:
    """The caller's visible opportunities narrowed by the filter, all in SQL. A contact the
    caller cannot see matches nothing, as if it did not exist."""
    user_id = ctx.require_caller().user_id
    stmt = select(Opportunity)
    if flt.stage_ids:
        stmt = stmt.where(Opportunity.stage_id.in_(flt.stage_ids))
    if flt.mine:
        stmt = stmt.where(Opportunity.owner_id == user_id)
    if flt.owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == flt.owner_id)
    if flt.contact_id is not None:
        stmt = stmt.where(
            refers_to_visible(ctx.access, Opportunity.contact_id, Contact, flt.contact_id)
        )
    if flt.open is not None:
        closed = (
            select(OpportunityStage.id)
            .where(or_(OpportunityStage.is_won, OpportunityStage.is_lost))
            .scalar_subquery()
        )
        condition = Opportunity.stage_id.in_(closed)
        stmt = stmt.where(~condition if flt.open else condition)
    if flt.closed_after is not None:
        stmt = stmt.where(Opportunity.closed_at >= flt.closed_after)
    if flt.closed_before is not None:
        stmt = stmt.where(Opportunity.closed_at < flt.closed_before)
    if flt.search and flt.search.strip():
        for word in flt.search.lower().split():
            stmt = stmt.where(func.lower(Opportunity.title).contains(word, autoescape=True))
    return stmt


def list_opportunities(
    ctx: CallerContext,
    flt: OpportunityFilter,
    *,
    order: Order,
    window: Window,
    filter_reads: Collection[str] = (),
    options: Sequence[Any] = (),
) -> Listed[Opportunity]:
    """One page of the caller's opportunities (the kernel's list path)."""
    return list_records(
        ctx,
        Opportunity,
        "Opportunity",
        opportunities_query(ctx, flt),
        order=order,
        window=window,
        filter_reads=filter_reads,
        options=options,
    )
