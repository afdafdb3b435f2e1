"""The contacts module's dashboard figures: all contacts, new this week, new today (each
names the fields it is computed from, so field rules hiding them leave it out)."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.sdk import (
    CallerContext,
    DashboardFigure,
    DashboardPeriods,
)
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
    created = ("Contact.createdAt",)
    return [
        DashboardFigure("total", "Contacts", count=total),
        DashboardFigure("newThisWeek", "New contacts this week", count=week, derived_from=created),
        DashboardFigure("newToday", "New contacts today", count=today, derived_from=created),
    ]
