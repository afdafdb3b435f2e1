"""Invoice logic, free of GraphQL: drafts, lines and totals, issuing with gap-free numbers,
status changes, duplication, catalogues and settings.

Every query runs on the caller's scoped session, so tenant and record visibility are already
applied in SQL. The few statements that must see *every* invoice of the tenant (number
uniqueness, the deletion veto, merging contacts) are system statements restricted to the
tenant explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import is_currency
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.sdk import (
    SYSTEM,
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Conflict,
    Forbidden,
    NotFound,
    ProfileKind,
    RequestContext,
    Tenant,
    check_writable_fields,
    events,
    get_user,
    get_visible,
    has_full_access,
    utcnow,
)
from plugins.contacts.models import Contact
from plugins.invoices import opportunities, totals
from plugins.invoices.models import (
    DueTerm,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceLineTax,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceStatus,
    InvoiceTax,
    ItemKind,
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


def _require(ctx: RequestContext, permission: P, field: str) -> None:
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


# -- lines and totals ---------------------------------------------------------------------


def recompute(invoice: Invoice) -> None:
    """Store every line's net and tax amounts and the invoice's totals (see totals.py)."""
    result = totals.compute(
        [
            totals.LineSpec(
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                taxes=[totals.TaxSpec(t.name, t.rate, t.compound) for t in line.taxes],
            )
            for line in invoice.lines
        ],
        invoice.currency,
    )
    for position, amounts in enumerate(result.lines):
        if abs(amounts.net) >= AMOUNT_LIMIT or abs(amounts.tax) >= AMOUNT_LIMIT:
            raise BadUserInput("the line's amount is too large", field=f"lines.{position}")
    if abs(result.total) >= TOTAL_LIMIT or abs(result.subtotal) >= TOTAL_LIMIT:
        raise BadUserInput("the invoice's total is too large", field="lines")
    for line, amounts in zip(invoice.lines, result.lines, strict=True):
        line.net_amount = amounts.net
        line.tax_amount = amounts.tax
        for tax, amount in zip(line.taxes, amounts.taxes, strict=True):
            tax.amount = amount
    invoice.subtotal, invoice.tax_total, invoice.total = (
        result.subtotal,
        result.tax_total,
        result.total,
    )


def check_billing_permissions(ctx: RequestContext, kinds: set[LineKind]) -> None:
    for kind in sorted(kinds):
        _require(ctx, LINE_PERMISSION[kind], "lines")


def _build_lines(ctx: RequestContext, invoice: Invoice, lines: list[LineData]) -> None:
    session = ctx.session
    item_ids = {ld.item_id for ld in lines if ld.item_id is not None}
    items = {
        i.id: i for i in session.scalars(select(InvoiceItem).where(InvoiceItem.id.in_(item_ids)))
    }
    tax_ids = {t for ld in lines for t in ld.tax_ids or []} | {
        i.tax_id for i in items.values() if i.tax_id is not None
    }
    taxes = {t.id: t for t in session.scalars(select(InvoiceTax).where(InvoiceTax.id.in_(tax_ids)))}
    built: list[InvoiceLine] = []
    for position, ld in enumerate(lines):
        where = f"lines.{position}"
        item = None
        if ld.item_id is not None:
            item = items.get(ld.item_id)
            if item is None:
                raise NotFound("no such product or service", field=f"{where}.itemId")
            kind = LineKind(item.kind.value)
            if ld.kind is not None and ld.kind is not kind:
                raise BadUserInput(
                    f"that item is a {item.kind.value.lower()}", field=f"{where}.kind"
                )
        else:
            kind = ld.kind or LineKind.OTHER
            if kind is not LineKind.OTHER:
                raise BadUserInput(
                    "articles and services come from the catalogue: give an itemId",
                    field=f"{where}.itemId",
                )
        check_number(
            ld.quantity,
            f"{where}.quantity",
            limit=QUANTITY_LIMIT,
            places=3,
            what="a non-zero quantity",
        )
        if ld.quantity == 0:
            raise BadUserInput(
                "a non-zero quantity with at most 3 decimals", field=f"{where}.quantity"
            )
        price = ld.unit_price if ld.unit_price is not None else (item.price if item else None)
        if ld.unit_price is None and item is not None and item.currency != invoice.currency:
            raise BadUserInput(
                f"the item is priced in {item.currency}; give the unit price in {invoice.currency}",
                field=f"{where}.unitPrice",
            )
        if price is None:
            raise BadUserInput("give the unit price", field=f"{where}.unitPrice")
        check_number(price, f"{where}.unitPrice", limit=AMOUNT_LIMIT, places=4, what="a price")
        discount = ld.discount if ld.discount is not None else Decimal(0)
        check_percent(discount, f"{where}.discount", "a discount")
        chosen = (
            ld.tax_ids
            if ld.tax_ids is not None
            else ([item.tax_id] if item and item.tax_id else [])
        )
        if len(set(chosen)) != len(chosen):
            raise BadUserInput("a tax applies once per line", field=f"{where}.taxIds")
        line_taxes = []
        for tax_position, tax_id in enumerate(chosen):
            tax = taxes.get(tax_id)
            if tax is None:
                raise NotFound("no such tax", field=f"{where}.taxIds")
            line_taxes.append(
                InvoiceLineTax(
                    tenant_id=invoice.tenant_id,
                    position=tax_position,
                    tax_id=tax.id,
                    name=tax.name,
                    rate=tax.rate,
                    compound=tax.compound,
                )
            )
        description = ld.description
        if description is None:
            description = (item.description or item.name) if item else ""
        if not description.strip():
            raise BadUserInput("describe the concept", field=f"{where}.description")
        built.append(
            InvoiceLine(
                tenant_id=invoice.tenant_id,
                position=position,
                kind=kind,
                item_id=item.id if item else None,
                description=description.strip(),
                quantity=ld.quantity,
                unit_price=price,
                discount=discount,
                taxes=line_taxes,
            )
        )
    check_billing_permissions(ctx, {line.kind for line in built})
    invoice.lines = built


# -- drafts -------------------------------------------------------------------------------


#: Service attribute → the ``Invoice`` fields it writes, for field rules; others write the
#: field of the same name. Aliases (``opportunityId``/``opportunity``) and figures computed
#: from what is written (``total`` from ``lines``) follow from the schema's ``@derivedFrom``.
WRITES: dict[str, tuple[str, ...]] = {
    "contact_id": ("client",),
    "consignee_id": ("consignee", "consigneeSameAsClient"),
    "owner_id": ("owner",),
    "issue_date": ("issueDate", "dueDate"),
    "due_term": ("dueTerm", "dueDate"),
}
#: What giving ``lines`` writes: they replace every line.
LINE_FIELDS = (
    "lines",
    *(
        f"InvoiceLine.{name}"
        for name in ("kind", "itemId", "description", "quantity", "unitPrice", "discount", "taxes")
    ),
)
#: What changing a draft's client or consignee also rewrites (see :func:`_apply`).
FOLLOWS: dict[str, tuple[str, ...]] = {
    "contact_id": ("billing_address", "delivery_address"),
    "consignee_id": ("delivery_address",),
}


def written_fields(attributes: Iterable[str]) -> set[str]:
    return {name for attr in attributes for name in WRITES.get(attr) or (_camel(attr),)}


def changed_fields(data: InvoiceData, *, creating: bool = False) -> set[str]:
    """The ``Invoice`` fields an input changes, for field rules and change events. On an
    existing draft a new client or consignee also rewrites the addresses taken from them
    (on a new one they are defaults, like every value not given)."""
    attributes = set(data.values)
    if not creating:
        attributes |= {f for a in data.values for f in FOLLOWS.get(a, ())}
    names = written_fields(attributes)
    if data.lines is not None:
        names.update(LINE_FIELDS)
    return names


def _apply(ctx: RequestContext, invoice: Invoice, data: InvoiceData, creating: bool) -> None:
    session = ctx.session
    v = data.values
    check_writable_fields(ctx.access, "Invoice", changed_fields(data, creating=creating))
    client: Contact | None = None
    if "contact_id" in v:
        if v["contact_id"] is None:  # an empty id: an invoice always has a client
            raise BadUserInput("choose the client", field="clientId")
        client = get_visible(session, Contact, v["contact_id"], "client")
        invoice.contact_id = client.id
        invoice.client = client
    elif creating:
        raise BadUserInput("choose the client", field="clientId")
    for attr, limit in TEXT_LIMITS.items():
        if attr in v:
            setattr(invoice, attr, _check_text(v[attr], limit, _camel(attr)))
    for attr in ("terms", "notes"):
        if attr in v:
            setattr(invoice, attr, _check_text(v[attr], 5000, attr))
    if client is not None and "billing_address" not in v:
        invoice.billing_address = format_address(client)
    if "consignee_id" in v:
        consignee_id = v["consignee_id"]
        if consignee_id is not None:
            consignee = get_visible(session, Contact, consignee_id, "consignee")
            invoice.consignee_id = consignee.id
            invoice.consignee_same = consignee.id == invoice.contact_id
        else:
            invoice.consignee_id = None
            invoice.consignee_same = True
    if "delivery_address" not in v and (creating or client is not None or "consignee_id" in v):
        # The stored consignee may be invisible to this editor (another user's private
        # contact): then the delivery address follows the billing address.
        consignee = None
        if invoice.consignee_id is not None and not invoice.consignee_same:
            consignee = session.get(Contact, invoice.consignee_id)
        if consignee is not None:
            invoice.delivery_address = format_address(consignee)
        else:
            invoice.delivery_address = invoice.billing_address
    if "opportunity_id" in v:
        invoice.opportunity_id = opportunities.checked_link(ctx, v["opportunity_id"])
    if "language" in v:
        language = (v["language"] or "").strip()
        if not _LANGUAGE.match(language):
            raise BadUserInput("use a language tag such as 'en' or 'es-ES'", field="language")
        invoice.language = language
    if "currency" in v:
        invoice.currency = check_currency(v["currency"])
    elif client is not None and creating:
        invoice.currency = check_currency(client.currency or "EUR")
    if "series_id" in v:
        series = session.get(InvoiceSeries, v["series_id"]) if v["series_id"] else None
        if series is None:
            raise NotFound("no such numbering series", field="seriesId")
        invoice.series_id = series.id
    if "issue_date" in v and v["issue_date"] is not None:
        invoice.issue_date = v["issue_date"]
    if "due_term" in v and v["due_term"] is not None:
        invoice.due_term = DueTerm(v["due_term"])
    invoice.due_date = due_date(
        invoice.issue_date, invoice.due_term, v.get("due_date", invoice.due_date)
    )
    if "access" in v and v["access"] is not None:
        invoice.access = AccessLevel(v["access"]).value
    if "owner_id" in v and v["owner_id"] is not None:
        owner = get_user(session, invoice.tenant_id, v["owner_id"], "ownerId")
        if owner.profile.kind is ProfileKind.ASSISTANT:
            raise BadUserInput("assistants cannot own invoices", field="ownerId")
        invoice.owner_id = owner.id


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def create_invoice(ctx: RequestContext, data: InvoiceData) -> Invoice:
    """A new draft: the client's billing address, currency and the default terms unless
    given; no number yet."""
    caller = ctx.require_caller()
    session = ctx.session
    today = tenant_today(session, caller.tenant_id)
    invoice = Invoice(
        tenant_id=caller.tenant_id,
        status=InvoiceStatus.DRAFT,
        issue_date=today,
        due_term=DueTerm.DAYS_30,
        due_date=today,
        language=session.get_one(Tenant, caller.tenant_id).language.split("-")[0] or "en",
        terms=settings_of(session, caller.tenant_id).default_terms,
        owner_id=None if caller.profile_kind is ProfileKind.ASSISTANT else caller.user_id,
        created_by_id=caller.user_id,
        access=AccessLevel.PRIVATE.value,
    )
    invoice.lines = []
    _apply(ctx, invoice, data, creating=True)
    if invoice.owner_id is None:
        raise BadUserInput("assistants must name the owner of a new invoice", field="ownerId")
    if invoice.series_id is None:
        invoice.series_id = default_series(session, caller.tenant_id).id
    _build_lines(ctx, invoice, data.lines or [])
    recompute(invoice)
    session.add(invoice)
    events.record_changed(ctx, ChangeKind.CREATED, ENTITY, invoice)
    return invoice


def lock(session: Session, invoice: Invoice) -> Invoice:
    """Re-read the invoice with a row lock (PostgreSQL ``FOR UPDATE``; SQLite write
    transactions already hold the database's write lock), so a concurrent issue or edit of
    the same invoice waits and then sees the committed state."""
    locked = session.scalar(
        _system(
            select(Invoice)
            .where(Invoice.id == invoice.id, Invoice.tenant_id == invoice.tenant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if locked is None:
        raise NotFound("no such invoice", field="id")
    return locked


def require_draft(invoice: Invoice, doing: str) -> None:
    if invoice.status is not InvoiceStatus.DRAFT:
        raise Conflict(
            f"only draft invoices can be {doing}; this one is {invoice.status.value.lower()}",
            status=invoice.status.value,
        )


def update_invoice(ctx: RequestContext, invoice: Invoice, data: InvoiceData) -> Invoice:
    invoice = lock(ctx.session, invoice)
    require_draft(invoice, "edited")
    _apply(ctx, invoice, data, creating=False)
    if data.lines is not None:
        _build_lines(ctx, invoice, data.lines)
    recompute(invoice)
    changed = frozenset(n for n in changed_fields(data) if "." not in n)
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, invoice, changed)
    return invoice


def delete_invoice(ctx: RequestContext, invoice: Invoice) -> None:
    invoice = lock(ctx.session, invoice)
    require_draft(invoice, "deleted")
    events.ensure_deletable(ctx, ENTITY, invoice)
    ctx.session.delete(invoice)
    events.record_changed(ctx, ChangeKind.DELETED, ENTITY, invoice)


# -- issuing and status -------------------------------------------------------------------


def _number_taken(session: Session, tenant_id: int, text: str) -> bool:
    return bool(
        session.scalar(
            _system(
                select(exists().where(Invoice.tenant_id == tenant_id, Invoice.number_text == text))
            )
        )
    )


def _check_issue_date(session: Session, invoice: Invoice, series_id: int, when: date) -> None:
    """Numbers of a series are correlative in time: an invoice may not be dated before the
    last one issued in its series. Runs while the series row is locked."""
    last = session.scalar(
        _system(
            select(func.max(Invoice.issue_date)).where(
                Invoice.tenant_id == invoice.tenant_id,
                Invoice.series_id == series_id,
                Invoice.status != InvoiceStatus.DRAFT,
                Invoice.id != invoice.id,
            )
        )
    )
    if last is not None and when < last:
        raise BadUserInput(
            f"the last invoice of this series is dated {last.isoformat()}; "
            "an invoice cannot be dated earlier",
            field="issueDate",
        )


def issue(
    ctx: RequestContext,
    invoice: Invoice,
    manual_number: str | None = None,
    issue_date: date | None = None,
) -> Invoice:
    """Draft → Billed, with the next number of the invoice's series.

    The invoice is dated ``issue_date`` if given, otherwise the tenant's today — never the
    date the draft happened to carry (a draft made last month and issued today is today's
    invoice). In a series the date may not precede the last issued invoice's.

    The series row is locked (``SELECT … FOR UPDATE``) for the rest of the transaction, so
    concurrent issuers — in any process — take numbers one after another; a unique
    constraint on (tenant, series, number) backs it. Numbers are consumed only here, never
    by drafts, so issued numbers have no gaps. A manual number (``invoices.manual_number``)
    stays outside the series and must be unique in the organisation.
    """
    session = ctx.session
    invoice = lock(session, invoice)
    require_draft(invoice, "issued")
    issued = {"status", "number", *(["issueDate"] if issue_date is not None else [])}
    check_writable_fields(ctx.access, "Invoice", issued)
    if not invoice.lines:
        raise BadUserInput("an invoice needs at least one line", field="lines")
    check_billing_permissions(ctx, {line.kind for line in invoice.lines})
    if manual_number is not None:
        _require(ctx, P.MANUAL_NUMBER, "number")
        text = manual_number.strip()
        if not text or len(text) > 40:
            raise BadUserInput("a number of 1 to 40 characters", field="number")
        if _number_taken(session, invoice.tenant_id, text):
            raise Conflict(f"the number {text} is already used", field="number")
        when = checked_issue_date(session, invoice.tenant_id, issue_date)
        invoice.series_id, invoice.number, invoice.number_text = None, None, text
        invoice.issue_date = when
    else:
        series_id = invoice.series_id or default_series(session, invoice.tenant_id).id
        series = session.scalar(
            _system(
                select(InvoiceSeries)
                .where(InvoiceSeries.id == series_id, InvoiceSeries.tenant_id == invoice.tenant_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        if series is None:
            raise NotFound("no such numbering series", field="seriesId")
        number = series.next_number
        text = series.format(number)
        if _number_taken(session, invoice.tenant_id, text):
            raise Conflict(
                f"the next number of series {series.name}, {text}, is already used; "
                "change the series' prefix or next number",
                field="number",
            )
        when = checked_issue_date(session, invoice.tenant_id, issue_date)
        _check_issue_date(session, invoice, series.id, when)
        series.next_number = number + 1
        invoice.series_id, invoice.number, invoice.number_text = series.id, number, text
        invoice.issue_date = when
    invoice.status = InvoiceStatus.BILLED
    invoice.issued_at = utcnow()
    invoice.due_date = due_date(invoice.issue_date, invoice.due_term, invoice.due_date)
    # A concurrent manual number (or a series number typed by hand) may win the unique
    # constraint between the check above and this flush.
    flush_unique(session, f"the number {invoice.number_text} is already used", "number")
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, invoice, frozenset({"status", "number"}))
    return invoice


def _moved_due_date(invoice: Invoice, when: date) -> date:
    """The due date of ``invoice`` re-dated to ``when``: from its term, or (a chosen date)
    the same number of days after it — or left as it is when that leaves the calendar."""
    if invoice.due_term is not DueTerm.DATE:
        return due_date(when, invoice.due_term, None)
    try:
        return add_days(when, (invoice.due_date - invoice.issue_date).days, "dueDate")
    except BadUserInput:
        return invoice.due_date


def rebase_series(ctx: RequestContext, series_id: int) -> tuple[InvoiceSeries, list[Invoice]]:
    """Unblock a series whose issued invoices are dated after the issue window (data from
    before issue dates were bounded): each such invoice is re-dated to the day it was really
    issued (``issued_at`` in the organisation's time zone), never before the invoice numbered
    just before it, and its due date keeps its distance to the issue date. Numbers do not
    change. Runs under the series lock, like issuing; each change fires the usual invoice
    change event (what the product audits). Nothing to do answers an empty list."""
    session = ctx.session
    tenant_id = ctx.tenant_id
    series = session.scalar(
        _system(
            select(InvoiceSeries)
            .where(InvoiceSeries.id == series_id, InvoiceSeries.tenant_id == tenant_id)
            .with_for_update()
        )
    )
    if series is None:
        raise NotFound("no such numbering series", field="id")
    tenant = session.get_one(Tenant, tenant_id)
    zone = ZoneInfo(tenant.timezone or "UTC")
    today = datetime.now(zone).date()
    _earliest, latest = issue_date_window(today)
    issued = session.scalars(
        _system(
            select(Invoice)
            .where(
                Invoice.tenant_id == tenant_id,
                Invoice.series_id == series.id,
                Invoice.status != InvoiceStatus.DRAFT,
            )
            .order_by(Invoice.number, Invoice.id)
            .with_for_update()
        )
    ).all()
    redated: list[Invoice] = []
    previous: date | None = None
    for invoice in issued:
        if invoice.issue_date > latest:
            real = invoice.issued_at.astimezone(zone).date() if invoice.issued_at else today
            when = max(real, previous) if previous is not None else real
            invoice.due_date = _moved_due_date(invoice, when)
            invoice.issue_date = when
            events.record_changed(
                ctx, ChangeKind.UPDATED, ENTITY, invoice, frozenset({"issueDate", "dueDate"})
            )
            redated.append(invoice)
        previous = invoice.issue_date
    return series, redated


def set_status(ctx: RequestContext, invoice: Invoice, status: InvoiceStatus) -> Invoice:
    """Billed ⇄ Paid ⇄ Rejected; Draft → Billed issues. Never back to Draft."""
    invoice = lock(ctx.session, invoice)
    if invoice.status is InvoiceStatus.DRAFT and status is InvoiceStatus.BILLED:
        return issue(ctx, invoice)
    if invoice.status is status:
        return invoice
    if status not in TRANSITIONS.get(invoice.status, set()):
        raise Conflict(
            f"an invoice cannot go from {invoice.status.value.lower()} to "
            f"{status.value.lower()}"
            + ("; issued invoices keep their number" if status is InvoiceStatus.DRAFT else ""),
            field="status",
        )
    check_writable_fields(ctx.access, "Invoice", {"status"})
    invoice.status = status
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, invoice, frozenset({"status"}))
    return invoice


def _duplicated_fields(
    session: Session,
    invoice: Invoice,
    client: Contact,
    consignee: Contact | None,
    with_notes: bool,
) -> set[str]:
    """The ``Invoice`` fields a caller would have to give ``createInvoice`` to make this copy:
    the client, the lines, and every header value that differs from what creating defaults
    to. Field rules (read-only or hidden) apply to them as they would on create."""
    defaults: dict[str, Any] = {
        "billing_address": format_address(client),
        "delivery_address": format_address(consignee)
        if consignee is not None
        else invoice.billing_address,
        "consignee_id": None,
        "opportunity_id": None,
        "language": session.get_one(Tenant, invoice.tenant_id).language.split("-")[0] or "en",
        "currency": (client.currency or "EUR").strip().upper(),
        "order_number": None,
        "terms": settings_of(session, invoice.tenant_id).default_terms,
        "notes": None,
        "due_term": DueTerm.DAYS_30,
        "access": AccessLevel.PRIVATE.value,
    }
    if not with_notes:
        del defaults["notes"]
    attributes = {"contact_id"}
    for attr, default in defaults.items():
        if (getattr(invoice, attr) or None) != (default or None):
            attributes.add(attr)
    return written_fields(attributes) | (set(LINE_FIELDS) if invoice.lines else set())


def duplicate(ctx: RequestContext, invoice: Invoice) -> Invoice:
    """A new draft with the same header and lines, dated today, without a number.

    Duplicating is creating: the caller needs what ``createInvoice`` would need for the same
    values — the client (and consignee) visible, the opportunity link allowed, the fields
    writable under their profile's field rules, the billing permissions of the lines. The
    notes need full access to the source (``Invoice.notes`` is ``@fullAccess``): without it
    the copy has none."""
    caller = ctx.require_caller()
    session = ctx.session
    today = tenant_today(session, caller.tenant_id)
    with_notes = has_full_access(ctx, invoice)
    # ``field`` names the copied value at fault (``id`` would point at the source invoice).
    client = session.get(Contact, invoice.contact_id)
    if client is None:
        raise NotFound("you may not see the invoice's client", field="client")
    consignee = None
    if invoice.consignee_id is not None and not invoice.consignee_same:
        consignee = session.get(Contact, invoice.consignee_id)
        if consignee is None:
            raise NotFound("you may not see the invoice's consignee", field="consignee")
    check_writable_fields(
        ctx.access,
        "Invoice",
        _duplicated_fields(session, invoice, client, consignee, with_notes),
    )
    opportunity_id = opportunities.checked_link(ctx, invoice.opportunity_id)
    copy = Invoice(
        tenant_id=invoice.tenant_id,
        status=InvoiceStatus.DRAFT,
        series_id=invoice.series_id or default_series(session, invoice.tenant_id).id,
        issue_date=today,
        due_term=invoice.due_term,
        due_date=today,
        contact_id=invoice.contact_id,
        billing_address=invoice.billing_address,
        consignee_id=invoice.consignee_id,
        consignee_same=invoice.consignee_same,
        delivery_address=invoice.delivery_address,
        opportunity_id=opportunity_id,
        language=invoice.language,
        currency=invoice.currency,
        order_number=invoice.order_number,
        terms=invoice.terms,
        notes=invoice.notes if with_notes else "",
        owner_id=invoice.owner_id
        if caller.profile_kind is ProfileKind.ASSISTANT
        else caller.user_id,
        created_by_id=caller.user_id,
        access=invoice.access,
    )
    if copy.due_term is DueTerm.DATE:
        copy.due_date = add_days(today, (invoice.due_date - invoice.issue_date).days, "dueDate")
    else:
        copy.due_date = due_date(today, copy.due_term, None)
    copy.lines = [
        InvoiceLine(
            tenant_id=line.tenant_id,
            position=line.position,
            kind=line.kind,
            item_id=line.item_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            taxes=[
                InvoiceLineTax(
                    tenant_id=t.tenant_id,
                    position=t.position,
                    tax_id=t.tax_id,
                    name=t.name,
                    rate=t.rate,
                    compound=t.compound,
                )
                for t in line.taxes
            ],
        )
        for line in invoice.lines
    ]
    check_billing_permissions(ctx, {line.kind for line in copy.lines})
    recompute(copy)
    session.add(copy)
    events.record_changed(ctx, ChangeKind.CREATED, ENTITY, copy)
    return copy


# -- catalogues and settings (invoices.manage_settings) -------------------------------------


NAME_TAKEN = "that name is already used"


def _name(session: Session, model: Any, value: str, limit: int, exclude: int | None) -> str:
    clean = (value or "").strip()
    if not clean or len(clean) > limit:
        raise BadUserInput(f"a name of 1 to {limit} characters", field="name")
    stmt = select(model.id).where(model.name == clean)
    if exclude is not None:
        stmt = stmt.where(model.id != exclude)
    if session.scalar(stmt) is not None:
        raise Conflict(NAME_TAKEN, field="name")
    return clean


def save_tax(
    session: Session, tenant_id: int, tax: InvoiceTax | None, values: dict[str, Any]
) -> InvoiceTax:
    tax = tax or InvoiceTax(tenant_id=tenant_id, compound=False)
    if "name" in values or tax.id is None:
        tax.name = _name(session, InvoiceTax, values.get("name", ""), 80, tax.id)
    if "rate" in values or tax.id is None:
        tax.rate = check_percent(values.get("rate"), "rate")
    if values.get("compound") is not None:
        tax.compound = values["compound"]
    session.add(tax)
    flush_unique(session, NAME_TAKEN, "name")
    return tax


def save_item(
    session: Session, tenant_id: int, item: InvoiceItem | None, values: dict[str, Any]
) -> InvoiceItem:
    item = item or InvoiceItem(tenant_id=tenant_id, description="", currency="EUR")
    if "name" in values or item.id is None:
        item.name = _name(session, InvoiceItem, values.get("name", ""), 200, item.id)
    if values.get("kind") is not None:
        item.kind = ItemKind(values["kind"])
    elif item.id is None:
        raise BadUserInput("say whether it is an article or a service", field="kind")
    if "price" in values or item.id is None:
        item.price = check_number(
            values.get("price"), "price", limit=AMOUNT_LIMIT, places=4, what="a price"
        )
    if values.get("currency") is not None:
        item.currency = check_currency(values["currency"])
    if "description" in values:
        item.description = _check_text(values["description"], 5000, "description")
    if "tax_id" in values:
        tax_id = values["tax_id"]
        if tax_id is not None and session.get(InvoiceTax, tax_id) is None:
            raise NotFound("no such tax", field="taxId")
        item.tax_id = tax_id
    session.add(item)
    flush_unique(session, NAME_TAKEN, "name")
    return item


def save_series(
    session: Session, tenant_id: int, series: InvoiceSeries | None, values: dict[str, Any]
) -> InvoiceSeries:
    """Create or change a series' format. The next number may not fall at or below a number
    already issued in the series (that would break uniqueness)."""
    series = series or InvoiceSeries(tenant_id=tenant_id, prefix="INV", next_number=1, padding=7)
    if "name" in values or series.id is None:
        series.name = _name(session, InvoiceSeries, values.get("name", ""), 80, series.id)
    if values.get("prefix") is not None:
        prefix = values["prefix"].strip()
        if len(prefix) > 20 or not re.fullmatch(r"[\w\-/.]*", prefix):
            raise BadUserInput("at most 20 letters, digits, '-', '/', '.', '_'", field="prefix")
        series.prefix = prefix
    if values.get("padding") is not None:
        if not (1 <= values["padding"] <= 12):
            raise BadUserInput("between 1 and 12 digits", field="padding")
        series.padding = values["padding"]
    if values.get("next_number") is not None:
        wanted = values["next_number"]
        highest = None
        if series.id is not None:
            highest = session.scalar(
                _system(
                    select(func.max(Invoice.number)).where(
                        Invoice.tenant_id == tenant_id, Invoice.series_id == series.id
                    )
                )
            )
        if wanted < 1 or (highest is not None and wanted <= highest):
            raise BadUserInput(
                f"the next number must be above {highest or 0}, the last one issued",
                field="nextNumber",
            )
        series.next_number = wanted
    if values.get("is_default"):
        session.execute(update(InvoiceSeries).values(is_default=False))
        series.is_default = True
    session.add(series)
    flush_unique(session, NAME_TAKEN, "name")
    return series


def save_settings(session: Session, tenant_id: int, values: dict[str, Any]) -> InvoiceSettings:
    found = settings_of(session, tenant_id)
    limits = {"company_name": 200, "address": 500, "fiscal_id": 40, "default_terms": 5000}
    for attr, limit in limits.items():
        if values.get(attr) is not None:
            setattr(found, attr, _check_text(values[attr], limit, _camel(attr)))
    session.flush()
    return found


@dataclass
class CompanyProfile:
    name: str
    address: str
    fiscal_id: str
    logo: bytes | None
    logo_mime: str | None
    email: str
    phone: str
    website: str


def company_profile(session: Session, tenant_id: int) -> CompanyProfile:
    """The invoices' company profile, falling back to the organisation's settings."""
    tenant = session.get_one(Tenant, tenant_id)
    own = session.get(InvoiceSettings, tenant_id) or InvoiceSettings(tenant_id=tenant_id)
    return CompanyProfile(
        name=own.company_name or tenant.legal_name or tenant.name,
        address=own.address or tenant.address,
        fiscal_id=own.fiscal_id or tenant.fiscal_id,
        logo=tenant.logo,
        logo_mime=tenant.logo_mime,
        email=tenant.email,
        phone=tenant.phone,
        website=tenant.website,
    )


# -- other modules' events ----------------------------------------------------------------


def contact_has_invoices(context: CallerContext, contact: Contact) -> bool:
    """Whether any invoice of the tenant (visible to the caller or not) names the contact."""
    return bool(
        context.session.scalar(
            _system(
                select(
                    exists().where(
                        Invoice.tenant_id == contact.tenant_id,
                        or_(Invoice.contact_id == contact.id, Invoice.consignee_id == contact.id),
                    )
                )
            )
        )
    )


def move_contact_invoices(context: CallerContext, kept: Contact, merged: Contact) -> None:
    """Re-point every invoice of the merged contact (as client or consignee) to the kept one."""
    session = context.session
    for column in (Invoice.contact_id, Invoice.consignee_id):
        session.execute(
            _system(
                update(Invoice)
                .where(Invoice.tenant_id == merged.tenant_id, column == merged.id)
                .values({column.key: kept.id})
            )
        )
    session.execute(
        _system(
            update(Invoice)
            .where(
                Invoice.tenant_id == kept.tenant_id,
                Invoice.consignee_id == kept.id,
                Invoice.contact_id == kept.id,
            )
            .values(consignee_same=True)
        )
    )
