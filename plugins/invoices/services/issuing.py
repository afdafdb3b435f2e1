"""Issuing with gap-free numbers, issue dates, re-basing a series, status changes, duplication."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from gateway.sdk import (
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Conflict,
    NotFound,
    ProfileKind,
    Tenant,
    check_writable_fields,
    events,
    has_full_access,
    utcnow,
)
from plugins.contacts.models import Contact
from plugins.invoices import opportunities
from plugins.invoices.models import (
    DueTerm,
    Invoice,
    InvoiceLine,
    InvoiceLineTax,
    InvoiceSeries,
    InvoiceStatus,
)
from plugins.invoices.permissions import InvoicesPermission as P
from plugins.invoices.services.common import (
    ENTITY,
    TRANSITIONS,
    _require,
    _system,
    add_days,
    checked_issue_date,
    default_series,
    due_date,
    flush_unique,
    format_address,
    issue_date_window,
    settings_of,
    tenant_today,
)
from plugins.invoices.services.drafts import LINE_FIELDS, lock, require_draft, written_fields
from plugins.invoices.services.lines import check_billing_permissions, recompute

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
    ctx: CallerContext,
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


def rebase_series(ctx: CallerContext, series_id: int) -> tuple[InvoiceSeries, list[Invoice]]:
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


def set_status(ctx: CallerContext, invoice: Invoice, status: InvoiceStatus) -> Invoice:
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
    invoice.paid_at = utcnow() if status is InvoiceStatus.PAID else None
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


def duplicate(ctx: CallerContext, invoice: Invoice) -> Invoice:
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
