"""Pipeline aggregates: exact budget sums per stage and currency on both engines, the
weighted forecast, and what was won and lost in a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast, func, or_, select

from gateway.sdk import (
    CallerContext,
)
from plugins.leads.models import (
    Opportunity,
    OpportunityStage,
)
from plugins.leads.services.opportunities import OpportunityFilter, opportunities_query
from plugins.leads.services.stages import stage_list

#: Money is exact to four decimals; SQLite aggregates it as integer ten-thousandths.
SCALE = 10_000
#: SQLite sums a budget in two parts below this, so a sum cannot overflow 64 bits before
#: some 9e9 rows (one part alone would overflow after 92 maximal budgets).
LIMB = 1_000_000_000


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
    in_period: list[ColumnElement[bool]] = [Opportunity.closed_at.is_not(None)]
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
