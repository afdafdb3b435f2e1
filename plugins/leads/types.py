"""GraphQL types of the leads module: leads, opportunities, stages, the pipeline."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.sdk import (
    AccessLevel,
    AccessLevelEnum,
    DeletePayload,
    Loader,
    Node,
    OkPayload,
    UserError,
    UserType,
    customfields,
    global_id,
    guarded,
    load_users,
)
from plugins.contacts.types import ContactNode, CustomFieldType, CustomFieldValue
from plugins.leads.models import (
    BudgetType,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityCustomField,
    OpportunityStage,
    StageChange,
)
from plugins.leads.services import stage_list

strawberry.enum(
    LeadStatus,
    name="LeadStatus",
    description="UNMANAGED (nobody's yet), IN_PROGRESS (claimed), CONVERTED, UNSUITABLE.",
)
LeadStatusEnum: TypeAlias = LeadStatus
strawberry.enum(BudgetType, name="BudgetType", description="What the budget amount is per.")
BudgetTypeEnum: TypeAlias = BudgetType


def _user(info: Info, user_id: int | None) -> UserType | None:
    found = load_users(info.context, [user_id]).get(user_id) if user_id else None
    return UserType(record=found) if found else None


def stages_by_id(info: Info) -> Loader[int, OpportunityStage]:
    """The tenant's stages, loaded once per operation (they are few: the first lookup loads
    them all)."""
    ctx = info.context

    def fetch(_ids: list[int]) -> dict[int, OpportunityStage]:
        every = {s.id: s for s in stage_list(ctx.session)}
        for stage_id, stage in every.items():
            loader.put(stage_id, stage)
        return every

    loader: Loader[int, OpportunityStage] = ctx.loader("leads.stages", fetch)
    return loader


@strawberry.type(name="Lead")
class LeadNode(Node):
    record: strawberry.Private[Lead]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Lead", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="The company the lead works for, as written.")
    def company(self) -> str:
        return self.record.company

    @strawberry.field
    def email(self) -> str:
        return self.record.email

    @strawberry.field
    def phone(self) -> str:
        return self.record.phone

    @strawberry.field(description="Where the lead came from (web form, fair, call…).")
    def source(self) -> str:
        return self.record.source

    @strawberry.field(
        description="Free notes (readable by all who see the lead, so that an "
        "unmanaged lead can be judged before claiming it)."
    )
    def notes(self) -> str:
        return self.record.notes

    @strawberry.field
    def status(self) -> LeadStatusEnum:
        return self.record.status

    @strawberry.field(description="Why it was marked unsuitable.")
    def unsuitable_reason(self) -> str | None:
        return self.record.unsuitable_reason or None

    @strawberry.field(description="Who works the lead; null while unmanaged.")
    def owner(self, info: Info) -> UserType | None:
        return _user(info, self.record.owner_id)

    @strawberry.field
    def access(self) -> AccessLevelEnum:
        return AccessLevel(self.record.access)

    @strawberry.field(description="The contact the conversion created (if visible).")
    def contact(self) -> ContactNode | None:
        found = self.record.contact
        return ContactNode(record=found) if found is not None else None

    @strawberry.field(description="The company created beside the person (if visible).")
    def company_contact(self) -> ContactNode | None:
        found = self.record.company_contact
        return ContactNode(record=found) if found is not None else None

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at

    @strawberry.field(description="When it was converted or marked unsuitable.")
    def closed_at(self) -> datetime | None:
        return self.record.closed_at


@strawberry.type
class LeadPayload:
    lead: LeadNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteLeadPayload(DeletePayload):
    """``DeletePayload`` under the name published before the kit shared it."""


@strawberry.type(name="OpportunityStage", description="A step of the sales pipeline.")
class OpportunityStageType:
    record: strawberry.Private[OpportunityStage]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("OpportunityStage", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="Order in the pipeline (ascending).")
    def position(self) -> int:
        return self.record.position

    @strawberry.field(description="Chance of winning in this stage, in percent.")
    def probability(self) -> int:
        return self.record.probability

    @strawberry.field(description="Opportunities here are won.")
    def won(self) -> bool:
        return self.record.is_won

    @strawberry.field(description="Opportunities here are lost.")
    def lost(self) -> bool:
        return self.record.is_lost


def _stage(info: Info, stage_id: int | None) -> OpportunityStageType | None:
    found = stages_by_id(info).get(stage_id) if stage_id is not None else None
    return OpportunityStageType(record=found) if found is not None else None


@strawberry.type(description="An amount of money in one currency.")
class MoneyAmount:
    currency: str = strawberry.field(description="ISO 4217 code.")
    amount: Decimal


def money_list(values: dict[str, Decimal]) -> list[MoneyAmount]:
    return [MoneyAmount(currency=c, amount=a) for c, a in sorted(values.items())]


@strawberry.type(description="What an opportunity is worth.")
class Budget:
    currency: str = strawberry.field(description="ISO 4217 code.")
    amount: Decimal | None = strawberry.field(description="Per unit of `type` (all if FIXED).")
    type: BudgetTypeEnum
    count: int = strawberry.field(description="How many units (1 for FIXED).")
    total: Decimal | None = guarded(
        description="amount times count.", derived_from=("Budget.amount", "Budget.count")
    )


@strawberry.type(name="OpportunityStageChange", description="A move between stages.")
class StageChangeType:
    record: strawberry.Private[StageChange]

    @strawberry.field(description="Null for the stage it was created in.")
    def from_stage(self, info: Info) -> OpportunityStageType | None:
        return _stage(info, self.record.from_stage_id)

    @strawberry.field
    def to_stage(self, info: Info) -> OpportunityStageType | None:
        return _stage(info, self.record.to_stage_id)

    @strawberry.field
    def changed_by(self, info: Info) -> UserType | None:
        return _user(info, self.record.changed_by_id)

    @strawberry.field
    def changed_at(self) -> datetime:
        return self.record.changed_at


@strawberry.type(name="OpportunityCustomField")
class OpportunityCustomFieldType(CustomFieldType):
    """The contacts' custom-field type over the opportunities' own definitions (same
    columns), with IDs of its own."""

    record: strawberry.Private[OpportunityCustomField]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("OpportunityCustomField", self.record.id)


@strawberry.type(name="Opportunity")
class OpportunityNode(Node):
    record: strawberry.Private[Opportunity]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Opportunity", self.record.id)

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field(description="The client or prospect (if visible to you).")
    def contact(self) -> ContactNode | None:
        found = self.record.contact
        return ContactNode(record=found) if found is not None else None

    @guarded(full_access=True, description="Description: needs full access.")
    def description(self) -> str | None:
        return self.record.description

    @strawberry.field
    def budget(self) -> Budget:
        r = self.record
        return Budget(
            currency=r.currency,
            amount=r.amount,
            type=r.budget_type,
            count=r.budget_count,
            total=r.total,
        )

    @guarded(
        description="The budget total weighted by the stage's probability.",
        derived_from=("Opportunity.budget", "Budget.total", "Opportunity.probability"),
    )
    def weighted_amount(self, info: Info) -> Decimal | None:
        stage = stages_by_id(info).get(self.record.stage_id)
        total = self.record.total
        if total is None or stage is None:
            return None
        return (total * stage.probability / 100).quantize(Decimal("0.0001"))

    @strawberry.field
    def expected_close_date(self) -> date | None:
        return self.record.expected_close_date

    @strawberry.field(description="The user responsible for the opportunity (its owner).")
    def responsible(self, info: Info) -> UserType | None:
        return _user(info, self.record.owner_id)

    @strawberry.field
    def stage(self, info: Info) -> OpportunityStageType | None:
        return _stage(info, self.record.stage_id)

    @guarded(
        description="The stage's success probability, in percent.",
        derived_from=("Opportunity.stage",),
    )
    def probability(self, info: Info) -> int | None:
        stage = stages_by_id(info).get(self.record.stage_id)
        return stage.probability if stage is not None else None

    @strawberry.field(description="PRIVATE plus shares (shareRecord) restricts it to chosen users.")
    def access(self) -> AccessLevelEnum:
        return AccessLevel(self.record.access)

    @guarded(
        description="Every stage change, oldest first: who moved it, when.",
        derived_from=("Opportunity.stage",),
    )
    def stage_history(self) -> list[StageChangeType]:
        return [StageChangeType(record=c) for c in self.record.stage_changes]

    @strawberry.field
    def custom_fields(self) -> list[CustomFieldValue]:
        values = sorted(self.record.custom_values, key=lambda cv: cv.field.position)
        return [
            CustomFieldValue(
                key=cv.field.key,
                label=cv.field.label,
                type=cv.field.type,
                value=customfields.as_text(cv),
            )
            for cv in values
        ]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at

    @strawberry.field(description="When it entered a won or lost stage.")
    def closed_at(self) -> datetime | None:
        return self.record.closed_at


@strawberry.type
class OpportunityPayload:
    opportunity: OpportunityNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteOpportunityPayload(DeletePayload):
    """``DeletePayload`` under the name published before the kit shared it."""


@strawberry.type
class OpportunityStagePayload:
    stage: OpportunityStageType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OpportunityCustomFieldPayload:
    custom_field: OpportunityCustomFieldType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LeadsRemovedPayload(OkPayload):
    """``OkPayload`` under the name published before the kit shared it."""


#: What the pipeline's figures are computed from (gateway.access.fields: a caller whose field
#: rules hide any of these may not read the figure either: one opportunity's total is its
#: budget). Totals are grouped by currency, so they also read the budget's currency.
_STAGE = ("Opportunity.stage",)
_BUDGETS = ("Opportunity.budget", "Budget.total", "Budget.currency", *_STAGE)
_WEIGHTED = (*_BUDGETS, "Opportunity.weightedAmount")
_CLOSED = (*_STAGE, "Opportunity.closedAt")


@strawberry.type(description="One stage of the pipeline with the visible opportunities in it.")
class PipelineStage:
    stage: OpportunityStageType
    count: int = guarded(derived_from=_STAGE)
    totals: list[MoneyAmount] = guarded(
        description="Budget totals per currency.", derived_from=_BUDGETS
    )
    weighted: list[MoneyAmount] = guarded(
        description="Budget totals times the stage's probability, per currency.",
        derived_from=_WEIGHTED,
    )


@strawberry.type(description="Opportunities closed in the period.")
class PipelinePeriod:
    count: int = guarded(derived_from=_CLOSED)
    totals: list[MoneyAmount] = guarded(derived_from=(*_CLOSED, *_BUDGETS))


@strawberry.type(description="Aggregates over the opportunities you may see.")
class Pipeline:
    stages: list[PipelineStage]
    forecast: list[MoneyAmount] = guarded(
        description="Weighted value (amount times probability) of the open opportunities, "
        "per currency.",
        derived_from=_WEIGHTED,
    )
    won: PipelinePeriod
    lost: PipelinePeriod
