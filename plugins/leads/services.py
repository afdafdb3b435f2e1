"""Lead and opportunity logic, free of GraphQL.

Every query runs on the caller's scoped session, so record visibility is already part of
the SQL; this module adds the leads' own rules: the race-free claim, the all-or-nothing
conversion (through the contacts module's services, so their validation and permissions
apply), stages and their history, budgets and the pipeline aggregates.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import BigInteger, Select, and_, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.sdk import (
    SYSTEM,
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Conflict,
    Forbidden,
    Listed,
    NotFound,
    Order,
    ProfileKind,
    Window,
    check_writable_fields,
    customfields,
    events,
    get_user,
    get_writable,
    list_records,
    refers_to_visible,
    utcnow,
)
from plugins.contacts import services as contacts
from plugins.contacts import validation as check
from plugins.contacts.models import Contact
from plugins.contacts.services import ContactData
from plugins.leads.models import (
    OPEN_LEAD_STATUSES,
    BudgetType,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityCustomField,
    OpportunityCustomValue,
    OpportunityStage,
    StageChange,
)

LEAD = "lead"
OPPORTUNITY = "opportunity"
#: Largest budget amount and unit count accepted: a whole budget is at most 1e17
#: ten-thousandths, so one row's budget always fits in 64 bits (see :func:`budget_parts`).
MAX_AMOUNT = Decimal("1000000000")
MAX_COUNT = 10_000
#: Money is exact to four decimals; SQLite aggregates it as integer ten-thousandths.
SCALE = 10_000
#: SQLite sums a budget in two parts below this, so a sum cannot overflow 64 bits before
#: some 9e9 rows (one part alone would overflow after 92 maximal budgets).
LIMB = 1_000_000_000

#: The stages a tenant starts with: (name, probability, won, lost).
DEFAULT_STAGES: list[tuple[str, int, bool, bool]] = [
    ("Prospecting", 10, False, False),
    ("Qualification", 25, False, False),
    ("Proposal", 50, False, False),
    ("Negotiation", 75, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
]


# -- leads: reading ---------------------------------------------------------------------------


@dataclass
class LeadFilter:
    statuses: list[LeadStatus] | None = None
    mine: bool = False
    unmanaged: bool = False
    owner_id: int | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def leads_query(user_id: int, flt: LeadFilter) -> Select[tuple[Lead]]:
    """The caller's visible leads narrowed by the filter, all in SQL."""
    stmt = select(Lead)
    if flt.unmanaged:
        stmt = stmt.where(Lead.status == LeadStatus.UNMANAGED, Lead.owner_id.is_(None))
    if flt.mine:
        stmt = stmt.where(Lead.owner_id == user_id)
    if flt.statuses:
        stmt = stmt.where(Lead.status.in_(flt.statuses))
    if flt.owner_id is not None:
        stmt = stmt.where(Lead.owner_id == flt.owner_id)
    if flt.created_after is not None:
        stmt = stmt.where(Lead.created_at >= flt.created_after)
    if flt.created_before is not None:
        stmt = stmt.where(Lead.created_at < flt.created_before)
    if flt.search and flt.search.strip():
        for word in flt.search.lower().split():
            stmt = stmt.where(
                or_(
                    *(
                        func.lower(column).contains(word, autoescape=True)
                        for column in (Lead.name, Lead.company, Lead.email)
                    )
                )
            )
    return stmt


def list_leads(
    ctx: CallerContext,
    flt: LeadFilter,
    *,
    order: Order,
    window: Window,
    filter_reads: Collection[str] = (),
    options: Sequence[Any] = (),
) -> Listed[Lead]:
    """One page of the caller's leads (the kernel's list path: field rules, narrowing,
    keyset page, lazy count)."""
    stmt = leads_query(ctx.require_caller().user_id, flt)
    return list_records(
        ctx,
        Lead,
        "Lead",
        stmt,
        order=order,
        window=window,
        filter_reads=filter_reads,
        options=options,
    )


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


def _check_fields(ctx: CallerContext, type_name: str, keys: Iterable[str]) -> None:
    """Refuse changing fields the caller's effective rules make read-only (or hidden)."""
    check_writable_fields(ctx.access, type_name, written_fields(type_name, keys))


@dataclass
class LeadData:
    """Lead fields the caller set (partial updates)."""

    values: dict[str, Any] = field(default_factory=dict)


LEAD_TEXT = {"name": 200, "company": 200, "source": 80, "notes": 20_000}


def _apply_lead(lead: Lead, data: LeadData) -> None:
    v = data.values
    for attr, limit in LEAD_TEXT.items():
        if attr in v:
            value = (v[attr] or "").strip()
            if len(value) > limit:
                raise BadUserInput(f"at most {limit} characters", field=attr)
            setattr(lead, attr, value)
    if "email" in v:
        lead.email = check.email(v["email"], "email") if (v["email"] or "").strip() else ""
    if "phone" in v:
        lead.phone = check.phone(v["phone"], "phone")[0] if (v["phone"] or "").strip() else ""
    if not lead.name:
        raise BadUserInput("a lead needs a name", field="name")


def create_lead(
    ctx: CallerContext, data: LeadData, *, unmanaged: bool, owner_id: int | None = None
) -> Lead:
    """A lead from "unmanaged" (nobody's) or from "my leads" (the creator's, or the named
    owner's: assistants name the user they create it for)."""
    caller = ctx.require_caller()
    _check_fields(ctx, "Lead", [*data.values, *(["owner_id"] if owner_id is not None else [])])
    lead = Lead(tenant_id=caller.tenant_id, created_by_id=caller.user_id)
    if unmanaged:
        if owner_id is not None:
            raise BadUserInput("an unmanaged lead has no owner", field="ownerId")
        lead.owner_id, lead.status = None, LeadStatus.UNMANAGED
    else:
        if owner_id is None and caller.profile_kind is ProfileKind.ASSISTANT:
            raise BadUserInput("assistants must name the owner of a new lead", field="ownerId")
        owner = get_user(ctx.session, caller.tenant_id, owner_id or caller.user_id, "ownerId")
        lead.owner_id, lead.status = owner.id, LeadStatus.IN_PROGRESS
    _apply_lead(lead, data)
    ctx.session.add(lead)
    events.record_changed(ctx, ChangeKind.CREATED, LEAD, lead)
    return lead


def update_lead(ctx: CallerContext, lead: Lead, data: LeadData) -> Lead:
    if lead.status not in OPEN_LEAD_STATUSES:
        raise Conflict("the lead is closed", field="id")
    _check_fields(ctx, "Lead", data.values.keys())
    _apply_lead(lead, data)
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset(data.values))
    return lead


def claim_lead(ctx: CallerContext, lead_id: int) -> Lead:
    """Make an unmanaged lead the caller's: one conditional UPDATE, so of any number of
    concurrent claims exactly one changes the row and the others see ``rowcount == 0``
    (PostgreSQL re-checks the WHERE after the winner commits; SQLite serialises writers)."""
    caller = ctx.require(f"leads.{LEAD}.update")
    if caller.profile_kind is ProfileKind.ASSISTANT:
        raise Forbidden("assistants cannot own leads", field="id")
    access = ctx.access
    if access is None or not access.scope.has(f"leads.{LEAD}.read"):
        # No lead is visible to such a caller, so none can be claimed; and the existence
        # check below must not answer them either.
        raise NotFound("no such lead", field="id")
    _check_fields(ctx, "Lead", ("owner_id", "status"))
    session = ctx.session
    result = session.execute(
        update(Lead)
        .where(
            Lead.id == lead_id,
            Lead.owner_id.is_(None),
            Lead.status == LeadStatus.UNMANAGED,
        )
        .values(owner_id=caller.user_id, status=LeadStatus.IN_PROGRESS, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Someone else was faster (or the lead is closed): say so, but only for a lead of
        # the caller's organisation; other IDs are simply not found. The winner's lead may
        # be invisible to the losers now, so this cannot depend on visibility: a caller who
        # may read leads learns that the ID exists in their organisation (docs/modules/leads.md).
        exists = session.scalar(
            select(Lead.id)
            .where(Lead.id == lead_id, Lead.tenant_id == caller.tenant_id)
            .execution_options(**{SYSTEM: True})
        )
        if exists is None:
            raise NotFound("no such lead", field="id")
        raise Conflict("the lead is already assigned or closed", field="id")
    lead = session.get_one(Lead, lead_id, populate_existing=True)
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset({"owner", "status"}))
    return lead


def writable_open_lead(ctx: CallerContext, lead_id: int) -> Lead:
    """A lead the caller may work on: visible, claimed (by them or someone they may act for)
    and still open."""
    session = ctx.session
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("no such lead", field="id")
    if lead.status is LeadStatus.UNMANAGED and lead.owner_id is None:
        raise Conflict("assign the lead to yourself first (claimLead)", field="id")
    if lead.status not in OPEN_LEAD_STATUSES:
        raise Conflict("the lead is already closed", field="id")
    return get_writable(session, Lead, lead.id, LEAD)


def mark_unsuitable(ctx: CallerContext, lead: Lead, reason: str) -> Lead:
    clean = reason.strip()
    if not clean:
        raise BadUserInput("say why the lead is unsuitable", field="reason")
    if len(clean) > 2000:
        raise BadUserInput("at most 2000 characters", field="reason")
    _check_fields(ctx, "Lead", ("status", "unsuitable_reason"))
    lead.status = LeadStatus.UNSUITABLE
    lead.unsuitable_reason = clean
    lead.closed_at = utcnow()
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset({"status"}))
    return lead


@dataclass
class Conversion:
    """What to create from a lead: a person (its name), a company (its company name), or
    both, linked."""

    person: bool = True
    company: bool | None = None  # default: when the lead names a company
    country: str | None = None
    access: AccessLevel | None = None


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def convert_lead(ctx: CallerContext, lead: Lead, how: Conversion) -> Lead:
    """Create the contact(s) with the lead's data, link them and close the lead.

    Runs inside the caller's unit of work: any failure (the contacts' validation, their
    permissions, a hook) rolls back every contact already created and leaves the lead as it
    was. The contacts get the lead's owner as manager.
    """
    _check_fields(ctx, "Lead", ("status", "contact_id", "company_contact_id"))
    want_company = bool(lead.company) if how.company is None else how.company
    if not (how.person or want_company):
        raise BadUserInput("create a person, a company or both", field="createPerson")
    if want_company and not lead.company:
        raise BadUserInput("the lead names no company", field="createCompany")
    common: dict[str, Any] = {"owner_id": lead.owner_id, "source": lead.source or "lead"}
    if how.country is not None:
        common["country"] = how.country
    if how.access is not None:
        common["access"] = how.access
    emails = [("WORK", lead.email)] if lead.email else []
    phones = [("WORK", lead.phone)] if lead.phone else []
    person: Contact | None = None
    company: Contact | None = None
    if how.person:
        first, last = _split_name(lead.name)
        person = contacts.create_contact(
            ctx,
            ContactData(
                values={
                    **common,
                    "kind": "PERSON",
                    "first_name": first,
                    "last_name": last,
                    "description": lead.notes,
                },
                emails=emails,
                phones=phones,
            ),
        )
    if want_company:
        company = contacts.create_contact(
            ctx,
            ContactData(
                values={**common, "kind": "COMPANY", "company_name": lead.company},
                emails=[] if person else emails,
                phones=[] if person else phones,
            ),
        )
    ctx.session.flush()
    if person is not None and company is not None:
        contacts.update_contact(ctx, person, ContactData(values={"company_id": company.id}))
    lead.contact_id = (person or company).id  # type: ignore[union-attr]
    lead.company_contact_id = company.id if company is not None and person is not None else None
    lead.status = LeadStatus.CONVERTED
    lead.closed_at = utcnow()
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset({"status", "contact"}))
    return lead


def delete_lead(ctx: CallerContext, lead: Lead) -> None:
    events.ensure_deletable(ctx, LEAD, lead)
    ctx.session.delete(lead)
    events.record_changed(ctx, ChangeKind.DELETED, LEAD, lead)


# -- merged contacts --------------------------------------------------------------------------


def move_contact_references(context: CallerContext, kept: Contact, merged: Contact) -> None:
    """Re-point the leads and opportunities naming the merged contact to the kept one.

    Called before the merged contact is deleted, whose foreign keys would otherwise clear
    the references (SET NULL). Every row of the tenant moves, also those the merging user
    cannot see: SYSTEM statements restricted to the contacts' tenant, returning no rows.
    """
    for column in (Opportunity.contact_id, Lead.contact_id, Lead.company_contact_id):
        model = column.class_
        context.session.execute(
            update(model)
            .where(model.tenant_id == merged.tenant_id, column == merged.id)
            .values({column.key: kept.id})
            .execution_options(**{SYSTEM: True})
        )


# -- stages -----------------------------------------------------------------------------------


def stage_list(session: Session) -> list[OpportunityStage]:
    return list(
        session.scalars(
            select(OpportunityStage).order_by(OpportunityStage.position, OpportunityStage.id)
        )
    )


def seed_default_stages(session: Session, tenant_id: int) -> list[OpportunityStage]:
    """Add the default stages to a tenant that has none (idempotent; a concurrent seeding
    of the same tenant trips the unique (tenant, name) constraint and is rolled back)."""
    existing = session.scalar(
        select(OpportunityStage.id)
        .where(OpportunityStage.tenant_id == tenant_id)
        .limit(1)
        .execution_options(**{SYSTEM: True})
    )
    if existing is not None:
        return []
    stages = [
        OpportunityStage(
            tenant_id=tenant_id,
            name=name,
            position=i + 1,
            probability=probability,
            is_won=won,
            is_lost=lost,
        )
        for i, (name, probability, won, lost) in enumerate(DEFAULT_STAGES)
    ]
    try:
        with session.begin_nested():
            session.add_all(stages)
            session.flush()
    except IntegrityError:
        return []
    return stages


def stages_on_demand(ctx: CallerContext) -> list[OpportunityStage]:
    """The tenant's stages; a tenant that never defined any gets the defaults on first use.

    Reads seed them in a short transaction of their own (the request's read snapshot may not
    see them on SQLite, so the new rows are returned directly); mutations seed them in their
    own unit of work.
    """
    found = stage_list(ctx.session)
    if found:
        return found
    if ctx.write:
        seed_default_stages(ctx.session, ctx.tenant_id)
        return stage_list(ctx.session)
    with ctx.gateway.db.transaction() as system:
        seeded = seed_default_stages(system, ctx.tenant_id)
        if not seeded:
            seeded = list(
                system.scalars(
                    select(OpportunityStage)
                    .where(OpportunityStage.tenant_id == ctx.tenant_id)
                    .order_by(OpportunityStage.position, OpportunityStage.id)
                )
            )
        for stage in seeded:
            system.expunge(stage)
    return seeded


STAGE_NAME_TAKEN = "a stage with that name exists"


@dataclass
class StageData:
    values: dict[str, Any] = field(default_factory=dict)


def _apply_stage(session: Session, stage: OpportunityStage, data: StageData) -> None:
    v = data.values
    if "name" in v:
        clean = (v["name"] or "").strip()
        if not clean or len(clean) > 80:
            raise BadUserInput("a name of 1 to 80 characters", field="name")
        taken = session.scalar(
            select(OpportunityStage.id).where(
                OpportunityStage.name == clean, OpportunityStage.id != (stage.id or 0)
            )
        )
        if taken is not None:
            raise Conflict(STAGE_NAME_TAKEN, field="name")
        stage.name = clean
    if "probability" in v:
        probability = v["probability"]
        if probability is None or not 0 <= probability <= 100:
            raise BadUserInput("a probability from 0 to 100", field="probability")
        stage.probability = probability
    if v.get("position") is not None:
        stage.position = v["position"]
    if v.get("won") is not None:
        stage.is_won = v["won"]
    if v.get("lost") is not None:
        stage.is_lost = v["lost"]
    if stage.is_won and stage.is_lost:
        raise BadUserInput("a stage is won or lost, not both", field="lost")


def create_stage(ctx: CallerContext, data: StageData) -> OpportunityStage:
    session = ctx.session
    stages_on_demand(ctx)
    last = session.scalar(select(func.max(OpportunityStage.position))) or 0
    stage = OpportunityStage(
        tenant_id=ctx.tenant_id, position=last + 1, probability=0, is_won=False, is_lost=False
    )
    if "name" not in data.values:
        raise BadUserInput("a stage needs a name", field="name")
    _apply_stage(session, stage, data)
    session.add(stage)
    return stage


def update_stage(ctx: CallerContext, stage: OpportunityStage, data: StageData) -> OpportunityStage:
    """Change a stage; when it becomes closed (won or lost) or open again, the close time of
    the opportunities already in it follows (:func:`_follow_closed`)."""
    was_closed = stage.is_closed
    _apply_stage(ctx.session, stage, data)
    if stage.is_closed != was_closed:
        _follow_closed(ctx, stage)
    return stage


def _follow_closed(ctx: CallerContext, stage: OpportunityStage) -> None:
    """Set ``closed_at`` of every opportunity of the tenant in ``stage`` as if each had just
    been moved there: now when the stage became won or lost, NULL when it became open.

    Otherwise the won/lost figures of the pipeline and the dashboard, which select by close
    time, would skip them (or keep counting them). All of them, visible to the admin or not
    (SYSTEM, restricted to the stage's tenant; nothing is returned). Switching between won
    and lost keeps the close time: they closed then, only the outcome was renamed.
    """
    ctx.session.execute(
        update(Opportunity)
        .where(Opportunity.tenant_id == stage.tenant_id, Opportunity.stage_id == stage.id)
        .values(closed_at=utcnow() if stage.is_closed else None)
        .execution_options(**{SYSTEM: True})
    )


def delete_stage(ctx: CallerContext, stage: OpportunityStage) -> None:
    """Refused while any opportunity (visible to the caller or not) is in the stage."""
    used = ctx.session.scalar(
        select(Opportunity.id)
        .where(Opportunity.stage_id == stage.id, Opportunity.tenant_id == stage.tenant_id)
        .limit(1)
        .execution_options(**{SYSTEM: True})
    )
    if used is not None:
        raise Conflict("opportunities are in this stage; move them first", field="id")
    ctx.session.delete(stage)


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
        access=AccessLevel.PRIVATE.value,
        currency="EUR",
        budget_type=BudgetType.FIXED,
        budget_count=1,
        description="",
    )
    opp.stage_changes, opp.custom_values = [], []
    _check_fields(ctx, "Opportunity", _touched(data, stage_id))
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
    _check_fields(ctx, "Opportunity", _touched(data, stage_id))
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
    _check_fields(ctx, "Opportunity", {"stage_id"})
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


def opportunities_query(ctx: CallerContext, flt: OpportunityFilter) -> Select[tuple[Opportunity]]:
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


def budget_parts(dialect: str) -> list[Any]:
    """SQL for an opportunity's whole budget (amount times count), as parts to sum one by one
    and give to :func:`to_money`; exact on both engines and free of overflow.

    PostgreSQL sums NUMERIC exactly (one part). SQLite's NUMERIC is a float, so it sums
    integer ten-thousandths (at most 1e17 per row); a plain 64-bit sum of them overflows
    after 92 maximal budgets, hence two parts below :data:`LIMB` each, summed separately
    and recombined in Python. Weighted values are not summed in SQL at all: the probability
    is the stage's, so :func:`pipeline` applies it to each stage's exact total.
    """
    if dialect == "postgresql":
        return [Opportunity.amount * Opportunity.budget_count]
    units = cast(func.round(Opportunity.amount * SCALE), BigInteger) * Opportunity.budget_count
    return [units // LIMB, units % LIMB]


def to_money(sums: Sequence[Any], dialect: str, *, probability: int = 100) -> Decimal:
    """The sums of :func:`budget_parts` as an exact amount, times ``probability`` percent,
    to four decimals (computed with enough digits for any number of rows)."""
    with localcontext() as exact:
        exact.prec = 60
        if dialect == "postgresql":
            value = Decimal(sums[0] or 0)
        else:
            high, low = (Decimal(part or 0) for part in sums)
            value = (high * LIMB + low) / SCALE
        if probability != 100:
            value = value * probability / 100
        return value.quantize(Decimal("0.0001"))


@dataclass
class StageFigures:
    stage: OpportunityStage
    count: int = 0
    #: currency → whole budgets, and currency → budgets times probability.
    totals: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class PeriodFigures:
    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class PipelineFigures:
    stages: list[StageFigures]
    #: currency → weighted value of the open opportunities.
    forecast: dict[str, Decimal]
    won: PeriodFigures
    lost: PeriodFigures


def pipeline(
    ctx: CallerContext, flt: OpportunityFilter, since: datetime | None, until: datetime | None
) -> PipelineFigures:
    """Totals per stage and currency, the weighted forecast, and what was won and lost in
    the period: two grouped statements over the visible opportunities."""
    session = ctx.session
    dialect = session.get_bind().dialect.name
    parts = budget_parts(dialect)
    narrowed = opportunities_query(ctx, flt).whereclause
    conditions = [narrowed] if narrowed is not None else []
    stages = stage_list(session)
    rows = session.execute(
        select(
            Opportunity.stage_id,
            Opportunity.currency,
            func.count(),
            *(func.sum(part) for part in parts),
        )
        .join(OpportunityStage, OpportunityStage.id == Opportunity.stage_id)
        .where(*conditions)
        .group_by(Opportunity.stage_id, Opportunity.currency)
    ).all()
    by_stage = {s.id: StageFigures(stage=s) for s in stages}
    forecast: dict[str, Decimal] = {}
    for stage_id, currency, count, *sums in rows:
        figures = by_stage.get(stage_id)
        if figures is None:
            continue
        figures.count += count
        figures.totals[currency] = to_money(sums, dialect)
        figures.weighted[currency] = to_money(sums, dialect, probability=figures.stage.probability)
        if not figures.stage.is_closed:
            forecast[currency] = (
                forecast.get(currency, Decimal("0.0000")) + figures.weighted[currency]
            )
    in_period = [Opportunity.closed_at.is_not(None)]
    if since is not None:
        in_period.append(Opportunity.closed_at >= since)
    if until is not None:
        in_period.append(Opportunity.closed_at < until)
    closed_rows = session.execute(
        select(
            OpportunityStage.is_won,
            Opportunity.currency,
            func.count(),
            *(func.sum(part) for part in parts),
        )
        .join(OpportunityStage, OpportunityStage.id == Opportunity.stage_id)
        .where(
            *conditions,
            or_(OpportunityStage.is_won, OpportunityStage.is_lost),
            and_(*in_period),
        )
        .group_by(OpportunityStage.is_won, Opportunity.currency)
    ).all()
    won, lost = PeriodFigures(), PeriodFigures()
    for is_won, currency, count, *sums in closed_rows:
        target = won if is_won else lost
        target.count += count
        target.totals[currency] = to_money(sums, dialect)
    return PipelineFigures(
        stages=[by_stage[s.id] for s in stages], forecast=forecast, won=won, lost=lost
    )
