"""Constants, input data and helpers shared by the invoice services."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import is_currency
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.sdk import (
    SYSTEM,
    BadUserInput,
    CallerContext,
    Conflict,
    Forbidden,
    Tenant,
)
from plugins.contacts.models import Contact
from plugins.invoices.models import (
    DueTerm,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceStatus,
    LineKind,
)
from plugins.invoices.permissions import InvoicesPermission as P

ENTITY = "invoice"
DUE_DAYS = {DueTerm.ON_RECEIPT: 0, DueTerm.DAYS_15: 15, DueTerm.DAYS_30: 30, DueTerm.DAYS_45: 45}
#: Which content permission each kind of line needs (MISSION A6 billing, V7).
LINE_PERMISSION = {
    LineKind.ARTICLE: P.BILL_ARTICLES,
    LineKind.SERVICE: P.BILL_SERVICES,
    LineKind.OTHER: P.BILL_OTHER,
}
#: Status changes allowed after issue. An issued invoice never returns to draft: its number
#: is legally taken, and the content must stay as sent (duplicate it to start over).
TRANSITIONS = {
    InvoiceStatus.BILLED: {InvoiceStatus.PAID, InvoiceStatus.REJECTED},
    InvoiceStatus.PAID: {InvoiceStatus.BILLED, InvoiceStatus.REJECTED},
    InvoiceStatus.REJECTED: {InvoiceStatus.BILLED, InvoiceStatus.PAID},
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
#: Bounds of numbers typed by callers, well inside the columns (Numeric(18, 4) money,
#: Numeric(18, 3) quantities, Numeric(7, 4) percentages) so that a line's product and the
#: invoice's sums still fit: PostgreSQL refuses an overflowing value (a 500), SQLite would
#: store it as a float. Strawberry's Decimal also accepts NaN and Infinity: refused too.
AMOUNT_LIMIT = Decimal("1e12")
QUANTITY_LIMIT = Decimal("1e9")
TOTAL_LIMIT = Decimal("1e13")
TEXT_LIMITS = {"billing_address": 500, "delivery_address": 500, "order_number": 60}
#: How far an issue date may lead the organisation's today. Within a series dates follow
#: the numbers, so one invoice dated in the far future would stop everyone from issuing in
#: it; one day covers users whose own calendar is ahead of the organisation's time zone.
ISSUE_DATE_LEAD_DAYS = 1
#: How far back an issue date may go: from 1 January ten years ago (the longest legal
#: retention period of invoices in the EU); older dates are typing mistakes.
ISSUE_DATE_YEARS_BACK = 10


@dataclass
class LineData:
    kind: LineKind | None = None
    item_id: int | None = None
    description: str | None = None
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    discount: Decimal | None = None
    tax_ids: list[int] | None = None


@dataclass
class InvoiceData:
    """Input already decoded from GraphQL; ``values`` holds only what the caller set."""

    values: dict[str, Any] = field(default_factory=dict)
    lines: list[LineData] | None = None


# -- helpers ------------------------------------------------------------------------------


def _system(stmt: Any) -> Any:
    return stmt.execution_options(**{SYSTEM: True})


def tenant_today(session: Session, tenant_id: int) -> date:
    timezone = session.get_one(Tenant, tenant_id).timezone or "UTC"
    return datetime.now(ZoneInfo(timezone)).date()


def format_address(contact: Contact) -> str:
    """A contact's postal address as printed lines."""
    city = " ".join(p for p in (contact.postal_code, contact.city) if p)
    parts = [contact.street, city, contact.region, contact.country]
    return "\n".join(p for p in parts if p)


def check_currency(value: str) -> str:
    code = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or not is_currency(code):
        raise BadUserInput("use an ISO 4217 currency code such as EUR", field="currency")
    return code


def _check_text(value: str | None, limit: int, field: str) -> str:
    clean = (value or "").strip()
    if len(clean) > limit:
        raise BadUserInput(f"at most {limit} characters", field=field)
    return clean


def check_number(
    value: Decimal | None, field: str, *, limit: Decimal, places: int, what: str = "a number"
) -> Decimal:
    """A finite number below ``limit`` (in absolute value) with at most ``places`` decimals —
    more decimals than the column keeps would make totals change after a reload."""
    if (
        value is None
        or not value.is_finite()
        or abs(value) >= limit
        or value.as_tuple().exponent < -places  # type: ignore[operator]
    ):
        raise BadUserInput(f"{what} below {limit:,.0f} with at most {places} decimals", field=field)
    return value


def check_percent(value: Decimal | None, field: str, what: str = "a rate") -> Decimal:
    """0 to 100 with at most 4 decimals (a ``PERCENT`` column); null is refused."""
    if value is None or not value.is_finite() or not (0 <= value <= 100):
        raise BadUserInput(f"{what} between 0 and 100 with at most 4 decimals", field=field)
    return check_number(value, field, limit=Decimal(101), places=4, what=what)


def _require(ctx: CallerContext, permission: P, field: str) -> None:
    access = ctx.access
    if access is None or not access.scope.has(permission.value):
        raise Forbidden(f"your profile may not do this (needs {permission.value})", field=field)


def flush_unique(session: Session, message: str, field: str | None = None) -> None:
    """Flush in a savepoint: a unique constraint that a concurrent transaction got to first
    becomes CONFLICT (not a 500), and the rest of the unit of work stays usable."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc


def _first_series(session: Session) -> InvoiceSeries | None:
    return session.scalar(
        select(InvoiceSeries).order_by(InvoiceSeries.is_default.desc(), InvoiceSeries.id)
    )


def default_series(session: Session, tenant_id: int) -> InvoiceSeries:
    """The tenant's default numbering series, created (INV, 7 digits, from 1) if missing.
    Two first invoices at once both try to create it: the loser of the (tenant, name)
    constraint takes the winner's series."""
    found = _first_series(session)
    if found is None:
        found = InvoiceSeries(
            tenant_id=tenant_id,
            name="Default",
            prefix="INV",
            next_number=1,
            padding=7,
            is_default=True,
        )
        session.add(found)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            found = _first_series(session)
            if found is None:
                raise Conflict("the numbering series changed meanwhile; try again") from None
    return found


def settings_of(session: Session, tenant_id: int) -> InvoiceSettings:
    found = session.get(InvoiceSettings, tenant_id)
    if found is None:
        found = InvoiceSettings(tenant_id=tenant_id)
        session.add(found)
        session.flush()
    return found


def add_days(day: date, days: int, field: str) -> date:
    """``day`` plus ``days``; a result outside the calendar (years 1 to 9999) is the typed
    date's fault, so BAD_USER_INPUT on ``field`` rather than an OverflowError (a 500)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise BadUserInput(
            f"{days:+d} days from {day.isoformat()} falls outside the calendar", field=field
        ) from None


def due_date(issue: date, term: DueTerm, given: date | None) -> date:
    if term is DueTerm.DATE:
        if given is None:
            raise BadUserInput("give the due date, or choose a term", field="dueDate")
        if given < issue:
            raise BadUserInput("the due date cannot precede the invoice date", field="dueDate")
        return given
    return add_days(issue, DUE_DAYS[term], "issueDate")


def issue_date_window(today: date) -> tuple[date, date]:
    """The first and last dates an invoice issued ``today`` (the organisation's) may carry."""
    return date(today.year - ISSUE_DATE_YEARS_BACK, 1, 1), add_days(
        today, ISSUE_DATE_LEAD_DAYS, "issueDate"
    )


def checked_issue_date(session: Session, tenant_id: int, given: date | None) -> date:
    """The date of an invoice being issued: ``given`` or the organisation's today, within
    :func:`issue_date_window` — a far-future date would block its series for everyone."""
    today = tenant_today(session, tenant_id)
    when = given or today
    earliest, latest = issue_date_window(today)
    if not earliest <= when <= latest:
        raise BadUserInput(
            f"an invoice is dated from {earliest.isoformat()} to {latest.isoformat()} "
            "(the organisation's today, plus one day)",
            field="issueDate",
        )
    return when
