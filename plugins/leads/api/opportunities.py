"""Root fields for opportunities: the list, one opportunity, the pipeline aggregates, and
the opportunity mutations."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import (
    Connection,
    Direction,
    Order,
    Window,
    check_filterable_fields,
    filter_reads,
    get_writable,
    mutate,
    parse_global_id,
    shaping,
)
from plugins.leads import services
from plugins.leads.api.loading import (
    Ctx,
    opportunity_options,
    prime_opportunity_users,
)
from plugins.leads.inputs import (
    OPPORTUNITY_FILTER_READS,
    OPPORTUNITY_SORT_READS,
    CreateOpportunityInput,
    OpportunityFilterInput,
    OpportunityOrder,
    UpdateOpportunityInput,
)
from plugins.leads.models import Opportunity
from plugins.leads.shaped_list import OPPORTUNITY
from plugins.leads.types import (
    DeleteOpportunityPayload,
    OpportunityNode,
    OpportunityPayload,
    OpportunityStageType,
    Pipeline,
    PipelinePeriod,
    PipelineStage,
    money_list,
)

# -- opportunity queries ----------------------------------------------------------------------


@strawberry.field(description="Opportunities you may see; filter by stage for a pipeline column.")
def opportunities(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: OpportunityFilterInput | None = None,
    order_by: OpportunityOrder | None = None,
) -> Connection[OpportunityNode]:
    ctx = info.context
    ctx.require_caller()
    flt = filter.to_filter() if filter else services.OpportunityFilter()
    given = order_by or OpportunityOrder()
    order = Order(
        getattr(Opportunity, given.field.value),
        given.direction == Direction.DESC,
        OPPORTUNITY_SORT_READS[given.field.value],
    )
    window = Window.of(ctx.gateway.settings, first, after, last, before)
    reads = filter_reads(filter, OPPORTUNITY_FILTER_READS)
    shaped = shaping.shaped_page(
        info,
        OPPORTUNITY,
        services.opportunities_query(ctx, flt),
        order=order,
        window=window,
        filter_reads=reads,
    )
    if shaped is not None:
        return cast(Connection[OpportunityNode], shaped)
    listed = services.list_opportunities(
        ctx,
        flt,
        order=order,
        window=window,
        filter_reads=reads,
        options=opportunity_options(info, "edges", "node"),
    )
    prime_opportunity_users(ctx, info, listed.rows, "edges", "node")
    return Connection.of(listed, lambda r: OpportunityNode(record=r))


@strawberry.field(description="One opportunity, or null if it does not exist or is not visible.")
def opportunity(info: Ctx, id: strawberry.ID) -> OpportunityNode | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.scalar(
        select(Opportunity)
        .where(Opportunity.id == parse_global_id(id, "Opportunity"))
        .options(*opportunity_options(info))
    )
    if found is None:
        return None
    prime_opportunity_users(ctx, info, [found])
    return OpportunityNode(record=found)


@strawberry.field(
    description="Pipeline aggregates over the opportunities you may see: count, totals and "
    "weighted totals per stage and currency, the weighted forecast of open ones, and what "
    "was won and lost between `closedSince` and `closedUntil`."
)
def pipeline(
    info: Ctx,
    filter: OpportunityFilterInput | None = None,
    closed_since: datetime | None = None,
    closed_until: datetime | None = None,
) -> Pipeline:
    ctx = info.context
    ctx.require_caller()
    # The figures count what the filter matches: as for the list, a filter may not read a
    # field the caller's rules hide (the figures themselves are @derivedFrom their fields).
    period = {"closedAt"} if closed_since is not None or closed_until is not None else set()
    check_filterable_fields(
        ctx.access, "Opportunity", period | filter_reads(filter, OPPORTUNITY_FILTER_READS)
    )
    flt = filter.to_filter() if filter else services.OpportunityFilter()
    figures = services.pipeline(ctx, flt, closed_since, closed_until)
    return Pipeline(
        stages=[
            PipelineStage(
                stage=OpportunityStageType(record=s.stage),
                count=s.count,
                totals=money_list(s.totals),
                weighted=money_list(s.weighted),
            )
            for s in figures.stages
        ],
        forecast=money_list(figures.forecast),
        won=PipelinePeriod(count=figures.won.count, totals=money_list(figures.won.totals)),
        lost=PipelinePeriod(count=figures.lost.count, totals=money_list(figures.lost.totals)),
    )


# -- opportunity mutations --------------------------------------------------------------------


def _opportunity_payload(result: Opportunity) -> OpportunityPayload:
    return OpportunityPayload(opportunity=OpportunityNode(record=result))


@strawberry.mutation(description="Create an opportunity; you are responsible by default.")
def create_opportunity(info: Ctx, input: CreateOpportunityInput) -> OpportunityPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Opportunity:
        created = services.create_opportunity(ctx, input.to_data())
        session.flush()
        return created

    return mutate(ctx, OpportunityPayload, work, _opportunity_payload)


@strawberry.mutation(description="Change an opportunity; a new stage is recorded in its history.")
def update_opportunity(
    info: Ctx, id: strawberry.ID, input: UpdateOpportunityInput
) -> OpportunityPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Opportunity:
        found = get_writable(
            session, Opportunity, parse_global_id(id, "Opportunity"), "opportunity"
        )
        updated = services.update_opportunity(ctx, found, input.to_data())
        session.flush()
        return updated

    return mutate(ctx, OpportunityPayload, work, _opportunity_payload)


@strawberry.mutation(description="Move an opportunity to another stage (recorded: who, when).")
def move_opportunity(info: Ctx, id: strawberry.ID, stage_id: strawberry.ID) -> OpportunityPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Opportunity:
        found = get_writable(
            session, Opportunity, parse_global_id(id, "Opportunity"), "opportunity"
        )
        moved = services.move_opportunity(
            ctx, found, parse_global_id(stage_id, "OpportunityStage", "stageId")
        )
        session.flush()
        return moved

    return mutate(ctx, OpportunityPayload, work, _opportunity_payload)


@strawberry.mutation
def delete_opportunity(info: Ctx, id: strawberry.ID) -> DeleteOpportunityPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        found = get_writable(
            session, Opportunity, parse_global_id(id, "Opportunity"), "opportunity"
        )
        services.delete_opportunity(ctx, found)

    return mutate(
        ctx, DeleteOpportunityPayload, work, lambda _: DeleteOpportunityPayload(deleted_id=id)
    )
