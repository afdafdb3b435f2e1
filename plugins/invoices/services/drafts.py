"""Drafts: create, update, delete, and which GraphQL fields an input writes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
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
    get_user,
    get_visible,
    initial_access,
)
from plugins.contacts.models import Contact
from plugins.invoices import opportunities
from plugins.invoices.models import (
    DueTerm,
    Invoice,
    InvoiceSeries,
    InvoiceStatus,
)
from plugins.invoices.services.common import (
    _LANGUAGE,
    ENTITY,
    TEXT_LIMITS,
    InvoiceData,
    _check_text,
    _system,
    check_currency,
    default_series,
    due_date,
    format_address,
    settings_of,
    tenant_today,
)
from plugins.invoices.services.lines import _build_lines, recompute

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


def _apply(ctx: CallerContext, invoice: Invoice, data: InvoiceData, creating: bool) -> None:
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


def create_invoice(ctx: CallerContext, data: InvoiceData) -> Invoice:
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
        access=initial_access(ctx, "invoice"),
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


def update_invoice(ctx: CallerContext, invoice: Invoice, data: InvoiceData) -> Invoice:
    invoice = lock(ctx.session, invoice)
    require_draft(invoice, "edited")
    _apply(ctx, invoice, data, creating=False)
    if data.lines is not None:
        _build_lines(ctx, invoice, data.lines)
    recompute(invoice)
    changed = frozenset(n for n in changed_fields(data) if "." not in n)
    events.record_changed(ctx, ChangeKind.UPDATED, ENTITY, invoice, changed)
    return invoice


def delete_invoice(ctx: CallerContext, invoice: Invoice) -> None:
    invoice = lock(ctx.session, invoice)
    require_draft(invoice, "deleted")
    events.ensure_deletable(ctx, ENTITY, invoice)
    ctx.session.delete(invoice)
    events.record_changed(ctx, ChangeKind.DELETED, ENTITY, invoice)
