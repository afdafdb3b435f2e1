"""GraphQL inputs of the leads module, and their translation to service data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from gateway.sdk import LONG_TEXT, AccessLevelEnum, Direction, parse_global_id, text
from plugins.leads.models import LeadStatus
from plugins.leads.services import (
    LEAD_TEXT,
    Conversion,
    LeadData,
    LeadFilter,
    OpportunityData,
    OpportunityFilter,
    StageData,
)
from plugins.leads.types import BudgetTypeEnum, LeadStatusEnum


def _given(obj: Any, names: dict[str, str]) -> dict[str, Any]:
    """Input attributes the client sent (``UNSET`` left out), keyed by service name."""
    return {
        target: getattr(obj, attr)
        for attr, target in names.items()
        if getattr(obj, attr) is not strawberry.UNSET
    }


LEAD_FIELDS = {
    "name": "name",
    "company": "company",
    "email": "email",
    "phone": "phone",
    "source": "source",
    "notes": "notes",
}


@strawberry.input(
    description='A new lead. From "unmanaged" (`unmanaged: true`) it has no owner until '
    'someone claims it; from "my leads" it is yours (or `ownerId`\'s).'
)
class CreateLeadInput:
    name: str = text(LEAD_TEXT["name"])
    company: str | None = text(LEAD_TEXT["company"], default=strawberry.UNSET)
    email: str | None = text(254, default=strawberry.UNSET)
    phone: str | None = text(40, default=strawberry.UNSET)
    source: str | None = text(LEAD_TEXT["source"], default=strawberry.UNSET)
    notes: str | None = text(LEAD_TEXT["notes"], multiline=True, default=strawberry.UNSET)
    unmanaged: bool = False
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who works it (assistants must say); you by default."
    )

    def to_data(self) -> LeadData:
        return LeadData(values=_given(self, LEAD_FIELDS))

    def owner(self) -> int | None:
        return parse_global_id(self.owner_id, "User", "ownerId") if self.owner_id else None


@strawberry.input(description="Changes to an open lead; omitted fields stay as they are.")
class UpdateLeadInput:
    name: str | None = text(LEAD_TEXT["name"], default=strawberry.UNSET)
    company: str | None = text(LEAD_TEXT["company"], default=strawberry.UNSET)
    email: str | None = text(254, default=strawberry.UNSET)
    phone: str | None = text(40, default=strawberry.UNSET)
    source: str | None = text(LEAD_TEXT["source"], default=strawberry.UNSET)
    notes: str | None = text(LEAD_TEXT["notes"], multiline=True, default=strawberry.UNSET)

    def to_data(self) -> LeadData:
        return LeadData(values=_given(self, LEAD_FIELDS))


@strawberry.input(description="Which leads to list.")
class LeadFilterInput:
    status: list[LeadStatusEnum] | None = None
    owner_id: strawberry.ID | None = None
    search: str | None = strawberry.field(
        default=None, description="Words found in the name, company or email."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None

    def to_filter(self, base: LeadFilter | None = None) -> LeadFilter:
        flt = base or LeadFilter()
        flt.statuses = [LeadStatus(s) for s in self.status] if self.status else None
        flt.owner_id = (
            parse_global_id(self.owner_id, "User", "filter.ownerId") if self.owner_id else None
        )
        flt.search = self.search
        flt.created_after = self.created_after
        flt.created_before = self.created_before
        return flt


@strawberry.enum
class LeadSortField(Enum):
    CREATED_AT = "created_at"
    NAME = "name"


#: The ``Lead`` / ``Opportunity`` fields each filter and sort order read (refused when a
#: field rule hides them: gateway.access.fields.check_filterable_fields).
LEAD_FILTER_READS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "owner_id": ("owner",),
    "search": ("name", "company", "email"),
    "created_after": ("createdAt",),
    "created_before": ("createdAt",),
}
LEAD_SORT_READS: dict[str, tuple[str, ...]] = {"created_at": ("createdAt",), "name": ("name",)}


@strawberry.input
class LeadOrder:
    field: LeadSortField = LeadSortField.CREATED_AT
    direction: Direction = Direction.DESC


@strawberry.input(
    description="What a conversion creates: by default a person from the lead's name and, "
    "when the lead names a company, that company too, the person belonging to it."
)
class ConvertLeadInput:
    create_person: bool = True
    create_company: bool | None = strawberry.field(
        default=None, description="Default: when the lead names a company."
    )
    country: str | None = strawberry.field(
        default=None, description="ISO 3166 code for the new contacts."
    )
    access: AccessLevelEnum | None = None

    def to_conversion(self) -> Conversion:
        return Conversion(
            person=self.create_person,
            company=self.create_company,
            country=self.country,
            access=self.access,
        )


@strawberry.input(description="An opportunity's budget.")
class BudgetInput:
    currency: str | None = strawberry.UNSET
    amount: Decimal | None = strawberry.UNSET
    type: BudgetTypeEnum | None = strawberry.UNSET
    count: int | None = strawberry.UNSET


@strawberry.input
class OpportunityCustomFieldInput:
    key: str = text(60)
    value: str | None = text(
        500, description="As text (see CustomFieldValue); null or empty clears it."
    )


OPPORTUNITY_FIELDS = {
    "title": "title",
    "description": "description",
    "expected_close_date": "expected_close_date",
    "access": "access",
}


def _opportunity_data(obj: Any) -> OpportunityData:
    values = _given(obj, OPPORTUNITY_FIELDS)
    if obj.contact_id is not strawberry.UNSET:
        values["contact_id"] = (
            parse_global_id(obj.contact_id, "Contact", "contactId") if obj.contact_id else None
        )
    if obj.responsible_id is not strawberry.UNSET and obj.responsible_id is not None:
        values["owner_id"] = parse_global_id(obj.responsible_id, "User", "responsibleId")
    if obj.stage_id is not strawberry.UNSET and obj.stage_id is not None:
        values["stage_id"] = parse_global_id(obj.stage_id, "OpportunityStage", "stageId")
    budget = obj.budget
    if budget is not strawberry.UNSET and budget is not None:
        values.update(
            _given(
                budget,
                {
                    "currency": "currency",
                    "amount": "amount",
                    "type": "budget_type",
                    "count": "budget_count",
                },
            )
        )
        if values.get("budget_type") is None:
            values.pop("budget_type", None)
    custom = None
    if obj.custom_fields is not strawberry.UNSET and obj.custom_fields is not None:
        custom = {c.key: c.value for c in obj.custom_fields}
    return OpportunityData(values=values, custom_fields=custom)


@strawberry.input(description="A new opportunity; you are responsible by default.")
class CreateOpportunityInput:
    title: str = text(200)
    contact_id: strawberry.ID | None = strawberry.UNSET
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    budget: BudgetInput | None = strawberry.UNSET
    expected_close_date: date | None = strawberry.UNSET
    responsible_id: strawberry.ID | None = strawberry.UNSET
    stage_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Default: the first stage."
    )
    access: AccessLevelEnum | None = strawberry.field(
        default=strawberry.UNSET,
        description="Default: the organisation's (recordAccessDefaults; built in: "
        "PUBLIC_WRITE, open to all users). PRIVATE plus shares restricts it to chosen users.",
    )
    custom_fields: list[OpportunityCustomFieldInput] | None = strawberry.UNSET

    def to_data(self) -> OpportunityData:
        return _opportunity_data(self)


@strawberry.input(description="Changes to an opportunity; omitted fields stay as they are.")
class UpdateOpportunityInput:
    title: str | None = text(200, default=strawberry.UNSET)
    contact_id: strawberry.ID | None = strawberry.UNSET
    description: str | None = text(LONG_TEXT, multiline=True, default=strawberry.UNSET)
    budget: BudgetInput | None = strawberry.UNSET
    expected_close_date: date | None = strawberry.UNSET
    responsible_id: strawberry.ID | None = strawberry.UNSET
    stage_id: strawberry.ID | None = strawberry.UNSET
    access: AccessLevelEnum | None = strawberry.UNSET
    custom_fields: list[OpportunityCustomFieldInput] | None = strawberry.UNSET

    def to_data(self) -> OpportunityData:
        return _opportunity_data(self)


@strawberry.input(description="Which opportunities to list or aggregate.")
class OpportunityFilterInput:
    stage_ids: list[strawberry.ID] | None = None
    mine: bool = strawberry.field(default=False, description="Only those you are responsible for.")
    responsible_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    open: bool | None = strawberry.field(
        default=None, description="true: not in a won/lost stage; false: in one."
    )
    search: str | None = strawberry.field(default=None, description="Words of the title.")

    def to_filter(self) -> OpportunityFilter:
        return OpportunityFilter(
            stage_ids=[
                parse_global_id(s, "OpportunityStage", "filter.stageIds")
                for s in self.stage_ids or []
            ]
            or None,
            mine=self.mine,
            owner_id=parse_global_id(self.responsible_id, "User", "filter.responsibleId")
            if self.responsible_id
            else None,
            contact_id=parse_global_id(self.contact_id, "Contact", "filter.contactId")
            if self.contact_id
            else None,
            open=self.open,
            search=self.search,
        )


@strawberry.enum
class OpportunitySortField(Enum):
    CREATED_AT = "created_at"
    TITLE = "title"
    UPDATED_AT = "updated_at"


OPPORTUNITY_FILTER_READS: dict[str, tuple[str, ...]] = {
    "stage_ids": ("stage",),
    "mine": ("responsible",),
    "responsible_id": ("responsible",),
    "contact_id": ("contact",),
    "open": ("stage",),
    "search": ("title",),
}
OPPORTUNITY_SORT_READS: dict[str, tuple[str, ...]] = {
    "created_at": ("createdAt",),
    "title": ("title",),
    "updated_at": ("updatedAt",),
}


@strawberry.input
class OpportunityOrder:
    field: OpportunitySortField = OpportunitySortField.CREATED_AT
    direction: Direction = Direction.DESC


@strawberry.input(description="A pipeline stage; omitted fields stay as they are.")
class OpportunityStageInput:
    name: str | None = text(80, default=strawberry.UNSET)
    probability: int | None = strawberry.UNSET
    position: int | None = strawberry.UNSET
    won: bool | None = strawberry.UNSET
    lost: bool | None = strawberry.UNSET

    def to_data(self) -> StageData:
        return StageData(
            values=_given(
                self,
                {
                    "name": "name",
                    "probability": "probability",
                    "position": "position",
                    "won": "won",
                    "lost": "lost",
                },
            )
        )
