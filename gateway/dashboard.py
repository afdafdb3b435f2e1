"""The ``dashboard`` query (MISSION L5): figures contributed by each enabled module.

The kernel owns the query and the notion of "today/this week/this month" in the
organisation's time zone; modules answer ``crm_dashboard_figures`` with figures that respect
record access because they are counted through the caller's session, and field rules
because the kernel leaves out every figure derived from a field the caller may not read
(``DashboardFigure.derived_from``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from gateway.access.fields import effective_rules, field_graph, parse_field
from gateway.contract import DashboardFigure, DashboardPeriods
from gateway.graphql.context import RequestContext
from gateway.tenancy.models import Tenant

log = logging.getLogger(__name__)


def periods_for(timezone: str, now: datetime | None = None) -> DashboardPeriods:
    """Start of today, this ISO week (Monday) and this month in ``timezone``, as UTC."""
    now = now or datetime.now(UTC)
    local = now.astimezone(ZoneInfo(timezone))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)

    def utc(moment: datetime) -> datetime:
        # Re-attach the zone: midnight may fall on a DST change, fold resolves it.
        return moment.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)

    return DashboardPeriods(now=now, today=utc(today), week=utc(week), month=utc(month))


@strawberry.type(name="DashboardFigure", description="One figure of the dashboard.")
class DashboardFigureType:
    module: str = strawberry.field(description="The module that contributed it.")
    key: str = strawberry.field(
        description="Stable key, `<module>.<name>` (e.g. `leads.unmanaged`). Money figures "
        "repeat their key once per currency."
    )
    label: str
    count: int | None = strawberry.field(description="Set for counts.")
    amount: Decimal | None = strawberry.field(description="Set for money figures.")
    currency: str | None = strawberry.field(description="ISO 4217 code of `amount`.")


@strawberry.type(description="Figures for the signed-in user's start page.")
class Dashboard:
    timezone: str = strawberry.field(description="The organisation's time zone.")
    today: datetime = strawberry.field(description="When today began there (UTC).")
    week: datetime = strawberry.field(description="When this week (Monday) began there.")
    month: datetime = strawberry.field(description="When this month began there.")
    figures: list[DashboardFigureType]


@strawberry.field(
    description="Figures from every enabled module (or those named in `modules`), counting "
    "only the records the caller may see."
)
def dashboard(info: Info[RequestContext, None], modules: list[str] | None = None) -> Dashboard:
    ctx = info.context
    ctx.require_caller()
    timezone = ctx.session.get_one(Tenant, ctx.tenant_id).timezone or "UTC"
    periods = periods_for(timezone)
    wanted = set(modules) if modules is not None else None
    figures: list[DashboardFigureType] = []
    for module, answer in ctx.hooks.call_attributed(
        "crm_dashboard_figures", context=ctx, periods=periods, only_modules=wanted
    ):
        figures.extend(_shaped(module, f) for f in answer or () if _readable(ctx, module, f))
    return Dashboard(
        timezone=timezone,
        today=periods.today,
        week=periods.week,
        month=periods.month,
        figures=figures,
    )


def _readable(ctx: RequestContext, module: str, figure: DashboardFigure) -> bool:
    """Whether the caller may read every field the figure derives from (effective rules:
    derivations followed). Unknown fields fail closed; ``@fullAccess`` ones need a profile
    that sees every record in full (the sum would include records seen only as public)."""
    if not figure.derived_from:
        return True
    access = ctx.access
    if access is None:
        return True
    graph = field_graph(access.registry)
    rules = effective_rules(access)
    for name in figure.derived_from:
        key = parse_field(name)
        if key not in graph.fields:
            log.warning("figure %s.%s derives from unknown field %s", module, figure.key, name)
            return False
        if rules.hidden(key):
            return False
        full = any(
            (policy := graph.policies.get(k)) is not None and policy.full_access
            for k in (key, *graph.sources(key))
        )
        if full and not access.scope.sees_everything:
            return False
    return True


def _shaped(module: str, figure: DashboardFigure) -> DashboardFigureType:
    return DashboardFigureType(
        module=module,
        key=f"{module}.{figure.key}",
        label=figure.label,
        count=figure.count,
        amount=figure.amount,
        currency=figure.currency,
    )
