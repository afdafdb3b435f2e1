"""Root fields for the leads settings: pipeline stages and opportunity custom fields
(reading them, and changing them with the leads.manage_settings permission)."""

from __future__ import annotations

import strawberry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    Conflict,
    FieldType,
    NotFound,
    guarded,
    mutate,
    parse_global_id,
)
from plugins.contacts.types import FieldTypeEnum
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


@strawberry.field(description="The custom fields defined for opportunities.")
def opportunity_custom_fields(info: Ctx) -> list[OpportunityCustomFieldType]:
    ctx = info.context
    ctx.require_caller()
    return [
        OpportunityCustomFieldType(record=f)
        for f in services.custom_fields_by_key(ctx.session).values()
    ]


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
    type: FieldTypeEnum,
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
