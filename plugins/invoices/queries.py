"""Root query fields of the invoices module: the list, lookups, PDF and Excel export."""

from __future__ import annotations

import base64
from typing import cast

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gateway.sdk import (
    BATCH,
    XLSX_MIME,
    Connection,
    Direction,
    ExportFile,
    Order,
    RequestContext,
    Window,
    check_filterable_fields,
    effective_rules,
    filter_reads,
    guarded,
    list_records,
    log_export,
    parse_global_id,
    shaping,
)
from plugins.invoices import export, pdf, services
from plugins.invoices.inputs import (
    INVOICE_FILTER_READS,
    INVOICE_SORT_READS,
    InvoiceFilterInput,
    InvoiceOrder,
    InvoiceSortField,
)
from plugins.invoices.loading import Ctx, _filtered, _prime, loader_options
from plugins.invoices.models import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceTax,
)
from plugins.invoices.permissions import InvoicesPermission as P
from plugins.invoices.shaped_list import INVOICE
from plugins.invoices.types import (
    InvoiceItemType,
    InvoiceNode,
    InvoiceSeriesType,
    InvoiceSettingsType,
    InvoiceTaxType,
)

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
    given = order_by or InvoiceOrder()
    field = InvoiceSortField(given.field).value
    order = Order(
        getattr(Invoice, field), given.direction == Direction.DESC, INVOICE_SORT_READS[field]
    )
    window = Window.of(ctx.gateway.settings, first, after, last, before)
    reads = filter_reads(filter, INVOICE_FILTER_READS)
    stmt = _filtered(ctx, filter)
    shaped = shaping.shaped_page(
        info, INVOICE, stmt, order=order, window=window, filter_reads=reads
    )
    if shaped is not None:
        return cast(Connection[InvoiceNode], shaped)
    listed = list_records(
        ctx,
        Invoice,
        "Invoice",
        stmt,
        order=order,
        window=window,
        filter_reads=reads,
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
    log_export(ctx, pdf.filename(found))
    return ExportFile(
        filename=pdf.filename(found),
        mime_type="application/pdf",
        content_base64=base64.b64encode(_pdf_of(ctx, found)).decode(),
    )


@guarded(permission=P.EXPORT.value, description="Visible invoices as an Excel workbook (base64).")
def export_invoices(info: Ctx, filter: InvoiceFilterInput | None = None) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    check_filterable_fields(ctx.access, "Invoice", filter_reads(filter, INVOICE_FILTER_READS))
    stmt = _filtered(ctx, filter).options(
        selectinload(Invoice.lines, chunksize=BATCH).selectinload(
            InvoiceLine.taxes, chunksize=BATCH
        ),
        selectinload(Invoice.client, chunksize=BATCH),
    )
    rows = list(ctx.session.scalars(stmt.order_by(Invoice.created_at, Invoice.id)))
    rules = effective_rules(ctx.access)  # derivations followed, like the API's answers
    log_export(ctx, "invoices.xlsx", len(rows))
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
