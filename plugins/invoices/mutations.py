"""Invoice mutations: drafts, issuing and status, duplication, sending by email."""

from __future__ import annotations

import smtplib
from datetime import date
from email.message import EmailMessage
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway.sdk import (
    BATCH,
    BadUserInput,
    Conflict,
    GatewayError,
    UserError,
    get_visible,
    get_writable,
    guarded,
    mail,
    mutate,
    parse_global_id,
    text_argument,
    utcnow,
)
from plugins.contacts.models import Contact
from plugins.contacts.validation import email as check_email
from plugins.invoices import pdf, services
from plugins.invoices.inputs import (
    CreateInvoiceInput,
    UpdateInvoiceInput,
    to_data,
)
from plugins.invoices.loading import Ctx
from plugins.invoices.models import (
    Invoice,
    InvoiceStatus,
)
from plugins.invoices.permissions import InvoicesPermission as P
from plugins.invoices.types import (
    DeleteInvoicePayload,
    InvoiceNode,
    InvoicePayload,
    InvoiceStatusEnum,
    SendInvoicePayload,
)

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


@guarded(
    permission=P.SEND.value,
    description="Email an issued invoice with its PDF attached, to `to` or the client's "
    "first email address; the notes go in the message (only for callers with full access). "
    "CONFLICT when the mail server is not configured, unreachable or refuses the message.",
)
def send_invoice(
    info: Ctx,
    id: strawberry.ID,
    to: str | None = None,
    subject: str | None = None,
    message: Annotated[str | None, text_argument(MESSAGE_LIMIT, multiline=True)] = None,
) -> SendInvoicePayload:
    ctx = info.context
    ctx.require_caller()
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
