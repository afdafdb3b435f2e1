"""The leads module's dashboard figures: my open leads, unmanaged leads, new leads today and
this week; open opportunities and those won this month (count and amount per currency)."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from gateway.contract import CallerContext, DashboardFigure, DashboardPeriods
from plugins.leads.models import Lead, LeadStatus, Opportunity, OpportunityStage
from plugins.leads.services import budget_parts, to_money


def figures(context: CallerContext, periods: DashboardPeriods) -> list[DashboardFigure]:
    """Two statements; the access predicate limits both to the rows the caller can list."""
    session = context.session
    mine, unmanaged, today, week = session.execute(
        select(
            func.count().filter(
                Lead.owner_id == context.user_id, Lead.status == LeadStatus.IN_PROGRESS
            ),
            func.count().filter(Lead.status == LeadStatus.UNMANAGED),
            func.count().filter(Lead.created_at >= periods.today),
            func.count().filter(Lead.created_at >= periods.week),
        ).select_from(Lead)
    ).one()
    dialect = session.get_bind().dialect.name
    parts = budget_parts(dialect)
    closed = or_(OpportunityStage.is_won, OpportunityStage.is_lost)
    won_month = OpportunityStage.is_won & (Opportunity.closed_at >= periods.month)
    rows = session.execute(
        select(
            Opportunity.currency,
            func.count().filter(~closed),
            func.count().filter(won_month),
            *(func.sum(part).filter(won_month) for part in parts),
        )
        .select_from(Opportunity)
        .join(OpportunityStage, OpportunityStage.id == Opportunity.stage_id)
        .group_by(Opportunity.currency)
        .order_by(Opportunity.currency)
    ).all()
    result = [
        DashboardFigure("mine", "My open leads", count=mine),
        DashboardFigure("unmanaged", "Unmanaged leads", count=unmanaged),
        DashboardFigure("newToday", "New leads today", count=today),
        DashboardFigure("newThisWeek", "New leads this week", count=week),
        DashboardFigure("openOpportunities", "Open opportunities", count=sum(r[1] for r in rows)),
        DashboardFigure(
            "wonThisMonth", "Opportunities won this month", count=sum(r[2] for r in rows)
        ),
    ]
    result += [
        DashboardFigure(
            "wonThisMonthAmount",
            "Won this month",
            amount=to_money(sums, dialect),
            currency=currency,
        )
        for currency, _open, won, *sums in rows
        if won
    ]
    return result
