"""The leads module's answer to the calendar's ``crm_timeline_events``: a contact's
opportunities created and moved to another stage (from the stage history), only those the
caller may see (the statements run through the caller's session, so record access
applies), and only kinds whose fields the caller may read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.sdk import CallerContext, unreadable_fields
from plugins.leads.models import Opportunity, OpportunityStage, StageChange

if TYPE_CHECKING:
    from plugins.calendar.history.window import TimelineEvent, TimelineWindow

CREATED = "opportunity.created"
#: ``detail`` is the name of the stage it moved to (won and lost are stages too).
STAGE_CHANGED = "opportunity.stage_changed"


def events(ctx: CallerContext, window: TimelineWindow) -> list[TimelineEvent]:
    hidden = unreadable_fields(
        ctx, "Opportunity", ["contact", "createdAt", "stage", "stageHistory"]
    )
    if "contact" in hidden:
        return []  # the link to the contact is what the timeline would show
    found: list[TimelineEvent] = []
    if "createdAt" not in hidden:
        found += window.collect(
            ctx,
            CREATED,
            select().select_from(Opportunity),
            contact=Opportunity.contact_id,
            at=Opportunity.created_at,
            id=Opportunity.id,
            subject_type="Opportunity",
        )
    if not {"stage", "stageHistory"} & hidden:
        # the join to the opportunity carries its record visibility
        moves = (
            select()
            .select_from(StageChange)
            .join(Opportunity, StageChange.opportunity_id == Opportunity.id)
            .join(OpportunityStage, StageChange.to_stage_id == OpportunityStage.id)
            .where(StageChange.from_stage_id.is_not(None))
        )
        found += window.collect(
            ctx,
            STAGE_CHANGED,
            moves,
            contact=Opportunity.contact_id,
            at=StageChange.changed_at,
            id=StageChange.id,
            subject_type="Opportunity",
            subject_id=StageChange.opportunity_id,
            detail=OpportunityStage.name,
        )
    return found
