"""The pipeline's stages: defaults seeded on first use, settings, and the close time of
the opportunities in a stage that becomes won/lost or open again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.sdk import (
    SYSTEM,
    BadUserInput,
    CallerContext,
    Conflict,
    utcnow,
)
from plugins.leads.models import (
    Opportunity,
    OpportunityStage,
)

#: The stages a tenant starts with: (name, probability, won, lost).
DEFAULT_STAGES: list[tuple[str, int, bool, bool]] = [
    ("Prospecting", 10, False, False),
    ("Qualification", 25, False, False),
    ("Proposal", 50, False, False),
    ("Negotiation", 75, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
]


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
