"""Root fields of the invoices module: the invoice list and lookups, draft editing, issuing
and status, PDF, Excel export, email, duplication, and the catalogues and settings."""

from __future__ import annotations

import base64
import smtplib
from datetime import date
from email.message import EmailMessage
from typing import Annotated, Any

import strawberry
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from strawberry.types import Info

from gateway.sdk import (
    BATCH,
    XLSX_MIME,
    BadUserInput,
    Conflict,
    Connection,
    Direction,
    ExportFile,
    GatewayError,
    NotFound,
    Order,
    RequestContext,
    UserError,
    Window,
    check_filterable_fields,
    effective_rules,
    filter_reads,
    get_visible,
    get_writable,
    list_records,
    load_users,
    mail,
    mutate,
    parse_global_id,
    refers_to_visible,
    selected,
    text_argument,
    utcnow,
)
from plugins.contacts import api as contacts_api
from plugins.contacts.models import Contact
from plugins.contacts.validation import email as check_email
from plugins.invoices import export, opportunities, pdf, services
from plugins.invoices.inputs import (
    INVOICE_FILTER_READS,
    INVOICE_SORT_READS,
    CreateInvoiceInput,
    InvoiceFilterInput,
    InvoiceItemInput,
    InvoiceOrder,
    InvoiceSeriesInput,
    InvoiceSettingsInput,
    InvoiceSortField,
    InvoiceTaxInput,
    UpdateInvoiceInput,
    given,
    to_data,
)
from plugins.invoices.models import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceStatus,
    InvoiceTax,
)
from plugins.invoices.permissions import InvoicesPermission as P
from plugins.invoices.types import (
    DeleteInvoicePayload,
    InvoiceItemPayload,
    InvoiceItemType,
    InvoiceNode,
    InvoicePayload,
    InvoiceSeriesPayload,
    InvoiceSeriesType,
    InvoiceSettingsPayload,
    InvoiceSettingsType,
    InvoiceStatusEnum,
    InvoiceTaxPayload,
    InvoiceTaxType,
    SendInvoicePayload,
)

Ctx = Info[RequestContext, None]


def loader_options(info: Ctx, *path: str) -> list[Any]:
    """Eager loads for the selected fields only: one query per relation, never per row.
    The client's own fields reuse the contacts module's loader options."""
    names = selected(info, *path)
    options: list[Any] = []
    if names & {"lines", "taxes"}:
        options.append(
            selectinload(Invoice.lines, chunksize=BATCH).selectinload(
                InvoiceLine.taxes, chunksize=BATCH
            )
        )
    for field, relation in (("client", Invoice.client), ("consignee", Invoice.consignee)):
        if field in names:
            nested = contacts_api.loader_options(selected(info, *path, field))
            options.append(selectinload(relation, chunksize=BATCH).options(*nested))
    return options


def _prime(ctx: RequestContext, info: Ctx, rows: list[Invoice], *path: str) -> None:
    """Linked opportunities in one query; then the users shown — owners of the invoices, of
    their clients and consignees, and the opportunities' responsible users — in another."""
    names = selected(info, *path)
    linked = {r.opportunity_id for r in rows}
    if names & {"opportunity", "opportunityId"}:
        opportunities.prime(ctx, linked)
    owners: set[int | None] = {r.owner_id for r in rows} if "owner" in names else set()
    if "opportunity" in names and "responsible" in selected(info, *path, "opportunity"):
        owners |= opportunities.owners_of(ctx, linked)
    if "client" in names and "owner" in selected(info, *path, "client"):
        owners |= {r.client.owner_id for r in rows if r.client is not None}
    if "consignee" in names and "owner" in selected(info, *path, "consignee"):
        owners |= {r.consignee.owner_id for r in rows if r.consignee is not None}
    owners.discard(None)
    if owners:
        load_users(ctx, sorted(o for o in owners if o is not None))


def _filtered(ctx: RequestContext, flt: InvoiceFilterInput | None) -> Any:
    stmt = select(Invoice)
    if flt is None:
        return stmt
    statuses = flt.statuses()
    if statuses:
        stmt = stmt.where(Invoice.status.in_(statuses))
    if flt.client_id:
        client_id = parse_global_id(flt.client_id, "Contact", "filter.clientId")
        stmt = stmt.where(refers_to_visible(ctx.access, Invoice.contact_id, Contact, client_id))
    if flt.mine:
        stmt = stmt.where(Invoice.owner_id == ctx.user_id)
    if flt.overdue:
        today = services.tenant_today(ctx.session, ctx.tenant_id)
        stmt = stmt.where(Invoice.status == InvoiceStatus.BILLED, Invoice.due_date < today)
    if flt.issued_from:
        stmt = stmt.where(Invoice.issue_date >= flt.issued_from)
    if flt.issued_to:
        stmt = stmt.where(Invoice.issue_date <= flt.issued_to)
    if flt.search and flt.search.strip():
        text = flt.search.strip()
        stmt = stmt.where(
            or_(
                Invoice.number_text.contains(text, autoescape=True),
                Invoice.order_number.contains(text, autoescape=True),
            )
        )
    return stmt


# -- queries ----------------------------------------------------------------------------------


@strawberry.field(description="Invoices you may see, filtered in SQL, newest first.")
def invoices(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    filter: InvoiceFilterInput | None = None,
    order_by: InvoiceOrder | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[InvoiceNode]:
    ctx = info.context
    ctx.require_caller()
    order = order_by or InvoiceOrder()
    field = InvoiceSortField(order.field).value
    listed = list_records(
        ctx,
        Invoice,
        "Invoice",
        _filtered(ctx, filter),
        order=Order(
            getattr(Invoice, field),
            order.direction == Direction.DESC,
            INVOICE_SORT_READS[field],
        ),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
        filter_reads=filter_reads(filter, INVOICE_FILTER_READS),
        options=loader_options(info, "edges", "node"),
    )
    _prime(ctx, info, listed.rows, "edges", "node")
    return Connection.of(listed, lambda r: InvoiceNode(record=r))


@strawberry.field(description="One invoice, or null if it does not exist or is not yours to see.")
def invoice(info: Ctx, id: strawberry.ID) -> InvoiceNode | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.scalar(
        select(Invoice)
        .where(Invoice.id == parse_global_id(id, "Invoice"))
        .options(*loader_options(info))
    )
    if found is None:
        return None
    _prime(ctx, info, [found])
    return InvoiceNode(record=found)


def _pdf_of(ctx: RequestContext, found: Invoice) -> bytes:
    """The PDF as this caller may read it (hidden fields out, notes only with full access)."""
    company = services.company_profile(ctx.session, found.tenant_id)
    return pdf.render(found, company, pdf.shown_to(ctx, found))


@strawberry.field(description="The invoice as a PDF (base64), in the invoice's language.")
def invoice_pdf(info: Ctx, id: strawberry.ID) -> ExportFile | None:
    ctx = info.context
    ctx.require_caller()
    found = ctx.session.get(Invoice, parse_global_id(id, "Invoice"))
    if found is None:
        return None
    return ExportFile(
        filename=pdf.filename(found),
        mime_type="application/pdf",
        content_base64=base64.b64encode(_pdf_of(ctx, found)).decode(),
    )


@strawberry.field(description="Visible invoices as an Excel workbook (base64).")
def export_invoices(info: Ctx, filter: InvoiceFilterInput | None = None) -> ExportFile:
    ctx = info.context
    ctx.require(P.EXPORT.value)
    check_filterable_fields(ctx.access, "Invoice", filter_reads(filter, INVOICE_FILTER_READS))
    stmt = _filtered(ctx, filter).options(
        selectinload(Invoice.lines, chunksize=BATCH).selectinload(
            InvoiceLine.taxes, chunksize=BATCH
        ),
        selectinload(Invoice.client, chunksize=BATCH),
    )
    rows = list(ctx.session.scalars(stmt.order_by(Invoice.created_at, Invoice.id)))
    rules = effective_rules(ctx.access)  # derivations followed, like the API's answers
    return ExportFile(
        filename="invoices.xlsx",
        mime_type=XLSX_MIME,
        content_base64=base64.b64encode(export.invoices_workbook(rows, rules)).decode(),
    )


@strawberry.field(description="Taxes of the catalogue.")
def invoice_taxes(info: Ctx) -> list[InvoiceTaxType]:
    ctx = info.context
    ctx.require_caller()
    rows = ctx.session.scalars(select(InvoiceTax).order_by(InvoiceTax.name))
    return [InvoiceTaxType(record=t) for t in rows]


@strawberry.field(description="Products (articles) and services of the catalogue.")
def invoice_items(info: Ctx) -> list[InvoiceItemType]:
    ctx = info.context
    ctx.require_caller()
    rows = ctx.session.scalars(select(InvoiceItem).order_by(InvoiceItem.name))
    return [InvoiceItemType(record=i) for i in rows]


@strawberry.field(description="Numbering series.")
def invoice_series(info: Ctx) -> list[InvoiceSeriesType]:
    ctx = info.context
    ctx.require_caller()
    rows = ctx.session.scalars(select(InvoiceSeries).order_by(InvoiceSeries.name))
    return [InvoiceSeriesType(record=s) for s in rows]


@strawberry.field(description="Company profile and default payment terms of invoices.")
def invoice_settings(info: Ctx) -> InvoiceSettingsType:
    ctx = info.context
    caller = ctx.require_caller()
    found = ctx.session.get(InvoiceSettings, caller.tenant_id)
    return InvoiceSettingsType(record=found or InvoiceSettings(tenant_id=caller.tenant_id))


# -- invoice mutations ----------------------------------------------------------------------


def _payload(result: Invoice) -> InvoicePayload:
    return InvoicePayload(invoice=InvoiceNode(record=result))


def _writable(session: Session, id: strawberry.ID) -> Invoice:
    return get_writable(session, Invoice, parse_global_id(id, "Invoice"), "invoice")


@strawberry.mutation(description="Create a draft invoice (no number until it is issued).")
def create_invoice(info: Ctx, input: CreateInvoiceInput) -> InvoicePayload:
    ctx = info.context
    ctx.require_caller()
    return mutate(
        ctx, InvoicePayload, lambda s: services.create_invoice(ctx, to_data(input)), _payload
    )


@strawberry.mutation(description="Change a draft; CONFLICT once it is issued.")
def update_invoice(info: Ctx, id: strawberry.ID, input: UpdateInvoiceInput) -> InvoicePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Invoice:
        return services.update_invoice(ctx, _writable(session, id), to_data(input))

    return mutate(ctx, InvoicePayload, work, _payload)


@strawberry.mutation(description="Delete a draft; issued invoices cannot be deleted.")
def delete_invoice(info: Ctx, id: strawberry.ID) -> DeleteInvoicePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> None:
        services.delete_invoice(ctx, _writable(session, id))

    return mutate(ctx, DeleteInvoicePayload, work, lambda _: DeleteInvoicePayload(deleted_id=id))


@strawberry.mutation(
    description="Issue a draft (Draft → Billed) with the next number of its series, or with "
    "`number` typed by hand (needs invoices.manual_number; must be unused). The invoice is "
    "dated `issueDate`, or today (the organisation's time zone) when not given: at most one "
    "day after today and no earlier than 1 January ten years ago; in a series it cannot be "
    "dated before the last invoice issued (BAD_USER_INPUT)."
)
def issue_invoice(
    info: Ctx, id: strawberry.ID, number: str | None = None, issue_date: date | None = None
) -> InvoicePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Invoice:
        return services.issue(ctx, _writable(session, id), number, issue_date)

    return mutate(ctx, InvoicePayload, work, _payload)


@strawberry.mutation(
    description="Change the status: Draft → Billed issues; Billed, Paid and Rejected change "
    "among themselves; an issued invoice never returns to Draft."
)
def set_invoice_status(
    info: Ctx,
    id: strawberry.ID,
    status: InvoiceStatusEnum,  # type: ignore[valid-type]
) -> InvoicePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Invoice:
        return services.set_status(ctx, _writable(session, id), InvoiceStatus(status.value))

    return mutate(ctx, InvoicePayload, work, _payload)


@strawberry.mutation(description="A new draft copying an invoice's header and lines.")
def duplicate_invoice(info: Ctx, id: strawberry.ID) -> InvoicePayload:
    ctx = info.context
    ctx.require_caller()

    def work(session: Session) -> Invoice:
        found = get_visible(session, Invoice, parse_global_id(id, "Invoice"), "invoice")
        return services.duplicate(ctx, found)

    return mutate(ctx, InvoicePayload, work, _payload)


#: A mail subject is one header line: no CR/LF (header injection), and a sane length.
SUBJECT_LIMIT = 200
MESSAGE_LIMIT = 20000


def _check_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    if "\r" in subject or "\n" in subject or len(subject) > SUBJECT_LIMIT:
        raise BadUserInput(
            f"a subject of one line, at most {SUBJECT_LIMIT} characters", field="subject"
        )
    return subject.strip() or None


def _deliver(settings: Any, email: EmailMessage) -> None:
    """Send outside any transaction; SMTP failures become typed errors. The project's
    ErrorCode has no "service unavailable": CONFLICT is what an unconfigured SMTP server
    already answers (gateway.mail), so an unreachable or failing one answers the same."""
    try:
        mail.send(settings, email)
    except smtplib.SMTPRecipientsRefused as exc:
        raise BadUserInput("the mail server refused the recipient", field="to") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Conflict(
            "the mail server could not be reached or refused the message; try again later"
        ) from exc


@strawberry.mutation(
    description="Email an issued invoice with its PDF attached, to `to` or the client's "
    "first email address; the notes go in the message (only for callers with full access). "
    "CONFLICT when the mail server is not configured, unreachable or refuses the message."
)
def send_invoice(
    info: Ctx,
    id: strawberry.ID,
    to: str | None = None,
    subject: str | None = None,
    message: Annotated[str | None, text_argument(MESSAGE_LIMIT, multiline=True)] = None,
) -> SendInvoicePayload:
    ctx = info.context
    ctx.require(P.SEND.value)
    settings = ctx.gateway.settings
    invoice_id = parse_global_id(id, "Invoice")

    def compose(session: Session) -> tuple[EmailMessage, str]:
        """Check and build the message; nothing is written, so no lock is held while the
        mail server answers."""
        found = get_writable(session, Invoice, invoice_id, "invoice")
        if found.status is InvoiceStatus.DRAFT:
            raise Conflict("issue the invoice before sending it", field="id")
        title = _check_subject(subject)
        if message is not None and len(message) > MESSAGE_LIMIT:
            raise BadUserInput(f"at most {MESSAGE_LIMIT} characters", field="message")
        address = to
        if address is None:
            client = session.scalar(
                select(Contact)
                .where(Contact.id == found.contact_id)
                .options(selectinload(Contact.emails, chunksize=BATCH))
            )
            if client is None or not client.emails:
                raise BadUserInput("the client has no email address; give one", field="to")
            address = client.emails[0].address
        address = check_email(address, "to")
        company = services.company_profile(session, found.tenant_id)
        shown = pdf.shown_to(ctx, found)
        words = pdf.labels_for(found.language)
        body = message if message is not None else f"{words['invoice']} {found.number_text}"
        if found.notes and shown.notes:
            body = f"{body}\n\n{found.notes}"
        email = mail.compose(
            settings,
            address,
            title or f"{words['invoice']} {found.number_text} — {company.name}",
            body,
        )
        email.add_attachment(
            pdf.render(found, company, shown),
            maintype="application",
            subtype="pdf",
            filename=pdf.filename(found),
        )
        return email, address

    def stamp(session: Session) -> Invoice:
        found = get_writable(session, Invoice, invoice_id, "invoice")
        found.sent_at = utcnow()
        return found

    # two units of work with the delivery between them (a slow SMTP server holds no lock);
    # a refused one answers its payload (errors), a done one its value
    composed = mutate(ctx, SendInvoicePayload, compose, lambda value: value)
    if isinstance(composed, SendInvoicePayload):
        return composed
    email, address = composed
    try:
        _deliver(settings, email)
    except GatewayError as exc:
        return SendInvoicePayload(errors=[UserError.from_exception(exc)])
    return mutate(
        ctx,
        SendInvoicePayload,
        stamp,
        lambda stamped: SendInvoicePayload(invoice=InvoiceNode(record=stamped), sent_to=address),
    )


# -- catalogues and settings ----------------------------------------------------------------


def _manage(ctx: RequestContext) -> int:
    return ctx.require(P.MANAGE_SETTINGS.value).tenant_id


def _found(session: Session, model: Any, id: strawberry.ID | None, type_name: str) -> Any:
    if id is None:
        return None
    found = session.get(model, parse_global_id(id, type_name))
    if found is None:
        raise NotFound(f"no such {type_name}", field="id")
    return found


@strawberry.mutation(description="Create (without `id`) or change a tax of the catalogue.")
def save_invoice_tax(
    info: Ctx, input: InvoiceTaxInput, id: strawberry.ID | None = None
) -> InvoiceTaxPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> InvoiceTax:
        found = _found(session, InvoiceTax, id, "InvoiceTax")
        return services.save_tax(
            session, tenant_id, found, given(input, "name", "rate", "compound")
        )

    return mutate(
        ctx, InvoiceTaxPayload, work, lambda r: InvoiceTaxPayload(tax=InvoiceTaxType(record=r))
    )


@strawberry.mutation(description="Create (without `id`) or change a product or service.")
def save_invoice_item(
    info: Ctx, input: InvoiceItemInput, id: strawberry.ID | None = None
) -> InvoiceItemPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> InvoiceItem:
        found = _found(session, InvoiceItem, id, "InvoiceItem")
        values = given(input, "kind", "name", "description", "price", "currency", "tax_id")
        if values.get("kind") is not None:
            values["kind"] = values["kind"].value
        if "tax_id" in values:
            raw = values["tax_id"]
            values["tax_id"] = parse_global_id(raw, "InvoiceTax", "taxId") if raw else None
        return services.save_item(session, tenant_id, found, values)

    return mutate(
        ctx, InvoiceItemPayload, work, lambda r: InvoiceItemPayload(item=InvoiceItemType(record=r))
    )


@strawberry.mutation(
    description="Create (without `id`) or change a numbering series: prefix, next number "
    "(never at or below one already issued), padding."
)
def save_invoice_series(
    info: Ctx, input: InvoiceSeriesInput, id: strawberry.ID | None = None
) -> InvoiceSeriesPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> InvoiceSeries:
        found = _found(session, InvoiceSeries, id, "InvoiceSeries")
        values = given(input, "name", "prefix", "next_number", "padding", "is_default")
        return services.save_series(session, tenant_id, found, values)

    return mutate(
        ctx,
        InvoiceSeriesPayload,
        work,
        lambda r: InvoiceSeriesPayload(series=InvoiceSeriesType(record=r)),
    )


@strawberry.type
class RebaseInvoiceSeriesPayload:
    series: InvoiceSeriesType | None = None
    redated: list[InvoiceNode] = strawberry.field(
        default_factory=list, description="The issued invoices whose dates were corrected."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.mutation(
    description="Administrators only: unblock a numbering series in which an issued invoice "
    "is dated after tomorrow (data from before issue dates were bounded), which stops anyone "
    "from issuing in it since dates follow the numbers. Each such invoice is re-dated to the "
    "day it was really issued (its issuedAt in the organisation's time zone, never before the "
    "previous number's date) and its due date moves with it; numbers do not change. Recorded "
    "as an invoice change like any other; nothing to correct answers an empty `redated`."
)
def rebase_invoice_series(info: Ctx, id: strawberry.ID) -> RebaseInvoiceSeriesPayload:
    ctx = info.context
    ctx.require_admin()

    def work(session: Session) -> tuple[InvoiceSeries, list[Invoice]]:
        return services.rebase_series(ctx, parse_global_id(id, "InvoiceSeries"))

    return mutate(
        ctx,
        RebaseInvoiceSeriesPayload,
        work,
        lambda r: RebaseInvoiceSeriesPayload(
            series=InvoiceSeriesType(record=r[0]),
            redated=[InvoiceNode(record=i) for i in r[1]],
        ),
    )


@strawberry.mutation(
    description="Set the company profile printed on invoices and the default payment terms "
    "(the logo is the organisation's: setOrganizationLogo)."
)
def update_invoice_settings(info: Ctx, input: InvoiceSettingsInput) -> InvoiceSettingsPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> Any:
        values = {
            "company_name": input.company_name,
            "address": input.address,
            "fiscal_id": input.fiscal_id,
            "default_terms": input.default_terms,
        }
        return services.save_settings(session, tenant_id, values)

    return mutate(
        ctx,
        InvoiceSettingsPayload,
        work,
        lambda r: InvoiceSettingsPayload(settings=InvoiceSettingsType(record=r)),
    )


@strawberry.type
class RemovedInvoiceEntryPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def _remove(info: Ctx, model: Any, id: strawberry.ID, type_name: str) -> RemovedInvoiceEntryPayload:
    ctx = info.context
    _manage(ctx)

    def work(session: Session) -> bool:
        session.delete(_found(session, model, id, type_name))
        return True

    return mutate(
        ctx, RemovedInvoiceEntryPayload, work, lambda _: RemovedInvoiceEntryPayload(ok=True)
    )


@strawberry.mutation(
    description="Remove a tax from the catalogue; lines keep the name and rate they used."
)
def delete_invoice_tax(info: Ctx, id: strawberry.ID) -> RemovedInvoiceEntryPayload:
    return _remove(info, InvoiceTax, id, "InvoiceTax")


@strawberry.mutation(
    description="Remove a product or service from the catalogue; lines keep their text and price."
)
def delete_invoice_item(info: Ctx, id: strawberry.ID) -> RemovedInvoiceEntryPayload:
    return _remove(info, InvoiceItem, id, "InvoiceItem")


QUERY_FIELDS = [
    invoices,
    invoice,
    invoice_pdf,
    export_invoices,
    invoice_taxes,
    invoice_items,
    invoice_series,
    invoice_settings,
]
MUTATION_FIELDS = [
    create_invoice,
    update_invoice,
    delete_invoice,
    issue_invoice,
    set_invoice_status,
    duplicate_invoice,
    send_invoice,
    save_invoice_tax,
    delete_invoice_tax,
    save_invoice_item,
    delete_invoice_item,
    save_invoice_series,
    rebase_invoice_series,
    update_invoice_settings,
]
