"""Root fields for the leads settings: pipeline stages and opportunity custom fields
(reading them, and changing them with the leads.manage_settings permission)."""

from __future__ import annotations

import strawberry
from sqlalchemy.orm import Session

from gateway.sdk import (
    NotFound,
    definition_fields,
    guarded,
    mutate,
    parse_global_id,
)
from plugins.leads import services
from plugins.leads.api.loading import (
    Ctx,
)
from plugins.leads.inputs import (
    OpportunityStageInput,
)
from plugins.leads.models import OpportunityCustomField, OpportunityStage
from plugins.leads.permissions import LeadsPermission as P
from plugins.leads.types import (
    LeadsRemovedPayload,
    OpportunityCustomFieldPayload,
    OpportunityCustomFieldType,
    OpportunityStagePayload,
    OpportunityStageType,
)

# -- settings: reading ----------------------------------------------------------------------


@strawberry.field(
    description="The pipeline's stages in order (a new organisation gets default stages)."
)
def opportunity_stages(info: Ctx) -> list[OpportunityStageType]:
    ctx = info.context
    ctx.require_caller()
    return [OpportunityStageType(record=s) for s in services.stages_on_demand(ctx)]


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


#: ``opportunityCustomFields`` / ``createOpportunityCustomField`` /
#: ``deleteOpportunityCustomField``: the kernel's custom-field kit over the opportunities'
#: definitions (the same rules as contacts').
CUSTOM_FIELDS = definition_fields(
    OpportunityCustomField,
    node=OpportunityCustomFieldType,
    payload=OpportunityCustomFieldPayload,
    removed=LeadsRemovedPayload,
    permission=P.MANAGE_SETTINGS.value,
    list_name="opportunityCustomFields",
    create_name="createOpportunityCustomField",
    delete_name="deleteOpportunityCustomField",
    list_description="The custom fields defined for opportunities.",
    delete_description="Delete an opportunity custom field and its values.",
)
opportunity_custom_fields = CUSTOM_FIELDS.query
create_opportunity_custom_field = CUSTOM_FIELDS.create
delete_opportunity_custom_field = CUSTOM_FIELDS.delete
