"""The contacts module's dashboard figures: all contacts, new this week, new today."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.contract import CallerContext, DashboardFigure, DashboardPeriods
from plugins.contacts.models import Contact


def figures(context: CallerContext, periods: DashboardPeriods) -> list[DashboardFigure]:
    """One statement; the access predicate limits it to the contacts the caller can list."""
    total, week, today = context.session.execute(
        select(
            func.count(),
            func.count().filter(Contact.created_at >= periods.week),
            func.count().filter(Contact.created_at >= periods.today),
        ).select_from(Contact)
    ).one()
    return [
        DashboardFigure("total", "Contacts", count=total),
        DashboardFigure("newThisWeek", "New contacts this week", count=week),
        DashboardFigure("newToday", "New contacts today", count=today),
    ]
