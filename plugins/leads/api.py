"""Root fields of the leads module: leads (lists for "unmanaged" and "my leads", claim,
conversion), opportunities, stages, custom fields and the pipeline aggregates."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    BadUserInput,
    Conflict,
    Connection,
    Direction,
    FieldType,
    NotFound,
    Order,
    RequestContext,
    Window,
    check_filterable_fields,
    filter_reads,
    get_writable,
    guarded,
    load_users,
    mutate,
    parse_global_id,
    selected,
    text_argument,
)
from plugins.contacts import api as contacts_api
from plugins.contacts.types import FieldTypeEnum
from plugins.leads import services
from plugins.leads.inputs import (
    LEAD_FILTER_READS,
    LEAD_SORT_READS,
    OPPORTUNITY_FILTER_READS,
    OPPORTUNITY_SORT_READS,
    ConvertLeadInput,
    CreateLeadInput,
    CreateOpportunityInput,
    LeadFilterInput,
    LeadOrder,
    OpportunityFilterInput,
    OpportunityOrder,
    OpportunityStageInput,
    UpdateLeadInput,
    UpdateOpportunityInput,
)
from plugins.leads.models import Lead, Opportunity, OpportunityCustomField, OpportunityStage
from plugins.leads.permissions import LeadsPermission as P
from plugins.leads.services import LeadFilter
from plugins.leads.types import (
    DeleteLeadPayload,
    DeleteOpportunityPayload,
    LeadNode,
    LeadPayload,
    LeadsRemovedPayload,
    OpportunityCustomFieldPayload,
    OpportunityCustomFieldType,
    OpportunityNode,
    OpportunityPayload,
    OpportunityStagePayload,
    OpportunityStageType,
    Pipeline,
    PipelinePeriod,
    PipelineStage,
    money_list,
)

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


def _prime_lead_users(ctx: RequestContext, info: Ctx, leads: list[Lead], *path: str) -> None:
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


def _prime_opportunity_users(
    ctx: RequestContext, info: Ctx, opps: list[Opportunity], *path: str
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
    listed = services.list_leads(
        ctx,
        flt,
        order=Order(
            getattr(Lead, sort),
            (order_by or LeadOrder()).direction == Direction.DESC,
            LEAD_SORT_READS[sort],
        ),
        window=window,
        filter_reads=filter_reads(filter, LEAD_FILTER_READS),
        options=lead_options(info, "edges", "node"),
    )
    _prime_lead_users(ctx, info, listed.rows, "edges", "node")
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
    _prime_lead_users(ctx, info, [found])
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
    order = order_by or OpportunityOrder()
    listed = services.list_opportunities(
        ctx,
        flt,
        order=Order(
            getattr(Opportunity, order.field.value),
            order.direction == Direction.DESC,
            OPPORTUNITY_SORT_READS[order.field.value],
        ),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
        filter_reads=filter_reads(filter, OPPORTUNITY_FILTER_READS),
        options=opportunity_options(info, "edges", "node"),
    )
    _prime_opportunity_users(ctx, info, listed.rows, "edges", "node")
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
    _prime_opportunity_users(ctx, info, [found])
    return OpportunityNode(record=found)


@strawberry.field(
    description="The pipeline's stages in order (a new organisation gets default stages)."
)
def opportunity_stages(info: Ctx) -> list[OpportunityStageType]:
    ctx = info.context
    ctx.require_caller()
    return [OpportunityStageType(record=s) for s in services.stages_on_demand(ctx)]


@strawberry.field(description="The custom fields defined for opportunities.")
def opportunity_custom_fields(info: Ctx) -> list[OpportunityCustomFieldType]:
    ctx = info.context
    ctx.require_caller()
    return [
        OpportunityCustomFieldType(record=f)
        for f in services.custom_fields_by_key(ctx.session).values()
    ]


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


# -- settings: stages and custom fields ------------------------------------------------------


def _stage_payload(result: OpportunityStage) -> OpportunityStagePayload:
    return OpportunityStagePayload(stage=OpportunityStageType(record=result))


def _get_stage(session: Session, id: strawberry.ID) -> OpportunityStage:
    found = session.get(OpportunityStage, parse_global_id(id, "OpportunityStage"))
    if found is None:
        raise NotFound("no such stage", field="id")
    return found


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Add a pipeline stage (at the end unless `position` says).",
)
def create_opportunity_stage(info: Ctx, input: OpportunityStageInput) -> OpportunityStagePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> OpportunityStage:
        return services.create_stage(ctx, input.to_data())

    return mutate(ctx, OpportunityStagePayload, work, _stage_payload)


@guarded(permission=P.MANAGE_SETTINGS.value)
def update_opportunity_stage(
    info: Ctx, id: strawberry.ID, input: OpportunityStageInput
) -> OpportunityStagePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> OpportunityStage:
        return services.update_stage(ctx, _get_stage(session, id), input.to_data())

    return mutate(ctx, OpportunityStagePayload, work, _stage_payload)


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Delete a stage no opportunity is in (CONFLICT otherwise).",
)
def delete_opportunity_stage(info: Ctx, id: strawberry.ID) -> LeadsRemovedPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> bool:
        services.delete_stage(ctx, _get_stage(session, id))
        return True

    return mutate(ctx, LeadsRemovedPayload, work, lambda _: LeadsRemovedPayload(ok=True))


@guarded(permission=P.MANAGE_SETTINGS.value)
def create_opportunity_custom_field(
    info: Ctx,
    key: str,
    label: str,
    type: FieldTypeEnum,  # type: ignore[valid-type]
    choices: list[str] | None = None,
    required: bool = False,
) -> OpportunityCustomFieldPayload:
    ctx = info.context
    caller = ctx.require_caller()

    def work(session: Session) -> OpportunityCustomField:
        clean = key.strip()
        if not clean.isidentifier() or len(clean) > 60:
            raise BadUserInput("a key of letters, digits and underscores", field="key")
        taken = session.scalar(
            select(OpportunityCustomField.id).where(OpportunityCustomField.key == clean)
        )
        if taken is not None:
            raise Conflict("that custom field exists", field="key")
        kind = FieldType(type)
        if kind is FieldType.CHOICE and not choices:
            raise BadUserInput("a choice field needs choices", field="choices")
        position = (session.scalar(select(func.max(OpportunityCustomField.position))) or 0) + 1
        created = OpportunityCustomField(
            tenant_id=caller.tenant_id,
            key=clean,
            label=label.strip() or clean,
            type=kind,
            choices="\n".join(c.strip() for c in choices or [] if c.strip()),
            required=required,
            position=position,
        )
        session.add(created)
        return created

    return mutate(
        ctx,
        OpportunityCustomFieldPayload,
        work,
        lambda r: OpportunityCustomFieldPayload(custom_field=OpportunityCustomFieldType(record=r)),
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Delete an opportunity custom field and its values.",
)
def delete_opportunity_custom_field(info: Ctx, id: strawberry.ID) -> LeadsRemovedPayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> bool:
        found = session.get(OpportunityCustomField, parse_global_id(id, "OpportunityCustomField"))
        if found is None:
            raise NotFound("no such custom field", field="id")
        session.delete(found)
        return True

    return mutate(ctx, LeadsRemovedPayload, work, lambda _: LeadsRemovedPayload(ok=True))


QUERY_FIELDS = [
    leads,
    unmanaged_leads,
    my_leads,
    lead,
    opportunities,
    opportunity,
    opportunity_stages,
    opportunity_custom_fields,
    pipeline,
]
MUTATION_FIELDS = [
    create_lead,
    update_lead,
    claim_lead,
    convert_lead,
    mark_lead_unsuitable,
    delete_lead,
    create_opportunity,
    update_opportunity,
    move_opportunity,
    delete_opportunity,
    create_opportunity_stage,
    update_opportunity_stage,
    delete_opportunity_stage,
    create_opportunity_custom_field,
    delete_opportunity_custom_field,
]
