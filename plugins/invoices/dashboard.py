"""The invoices module's dashboard figures: billed this month, unpaid, overdue — money per
currency, counted through the caller's session so record access applies; each names the
fields it is computed from, so field rules hiding them leave it out."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, func, select

from gateway.sdk import CallerContext, DashboardFigure, DashboardPeriods
from plugins.invoices.models import Invoice, InvoiceStatus
from plugins.invoices.services import tenant_today

ISSUED = (InvoiceStatus.BILLED, InvoiceStatus.PAID)


def figures(context: CallerContext, periods: DashboardPeriods) -> list[DashboardFigure]:
    """One statement grouped by currency; each figure repeats once per currency."""
    today = tenant_today(context.session, context.tenant_id)  # the organisation's date
    zero = Decimal(0)
    rows = context.session.execute(
        select(
            Invoice.currency,
            func.coalesce(
                func.sum(Invoice.total).filter(
                    and_(Invoice.status.in_(ISSUED), Invoice.issued_at >= periods.month)
                ),
                zero,
            ),
            func.coalesce(
                func.sum(Invoice.total).filter(Invoice.status == InvoiceStatus.BILLED), zero
            ),
            func.coalesce(
                func.sum(Invoice.total).filter(
                    and_(Invoice.status == InvoiceStatus.BILLED, Invoice.due_date < today)
                ),
                zero,
            ),
        )
        .where(Invoice.status != InvoiceStatus.DRAFT)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    result: list[DashboardFigure] = []
    money = ("Invoice.total", "Invoice.status", "Invoice.currency")
    for key, label, column, derived_from in (
        ("billedThisMonth", "Billed this month", 1, (*money, "Invoice.issuedAt")),
        ("unpaid", "Unpaid invoices", 2, money),
        ("overdue", "Overdue invoices", 3, (*money, "Invoice.dueDate")),
    ):
        for row in rows:
            result.append(
                DashboardFigure(
                    key,
                    label,
                    amount=Decimal(row[column]),
                    currency=row[0],
                    derived_from=derived_from,
                )
            )
    return result
