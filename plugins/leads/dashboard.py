"""The leads module's dashboard figures: my open leads, unmanaged leads, new leads today and
this week; open opportunities and those won this month (count and amount per currency).
Each names the fields it is computed from, so field rules hiding them leave it out."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from gateway.sdk import CallerContext, DashboardFigure, DashboardPeriods
from plugins.leads.models import Lead, LeadStatus, Opportunity, OpportunityStage
from plugins.leads.services import budget_parts, to_money

#: What a sum of budgets per currency reads (see the pipeline's types).
BUDGET = ("Opportunity.budget", "Budget.total", "Budget.currency")


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
    created, stage = ("Lead.createdAt",), ("Opportunity.stage",)
    won = ("Opportunity.stage", "Opportunity.closedAt")
    result = [
        DashboardFigure(
            "mine", "My open leads", count=mine, derived_from=("Lead.owner", "Lead.status")
        ),
        DashboardFigure(
            "unmanaged", "Unmanaged leads", count=unmanaged, derived_from=("Lead.status",)
        ),
        DashboardFigure("newToday", "New leads today", count=today, derived_from=created),
        DashboardFigure("newThisWeek", "New leads this week", count=week, derived_from=created),
        DashboardFigure(
            "openOpportunities",
            "Open opportunities",
            count=sum(r[1] for r in rows),
            derived_from=stage,
        ),
        DashboardFigure(
            "wonThisMonth",
            "Opportunities won this month",
            count=sum(r[2] for r in rows),
            derived_from=won,
        ),
    ]
    result += [
        DashboardFigure(
            "wonThisMonthAmount",
            "Won this month",
            amount=to_money(sums, dialect),
            currency=currency,
            derived_from=(*won, *BUDGET),
        )
        for currency, _open, won_count, *sums in rows
        if won_count
    ]
    return result
