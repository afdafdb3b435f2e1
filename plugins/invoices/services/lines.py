"""Invoice lines and totals: building lines, permissions per line kind, recomputing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    NotFound,
)
from plugins.invoices import totals
from plugins.invoices.models import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceLineTax,
    InvoiceTax,
    LineKind,
)
from plugins.invoices.services.common import (
    AMOUNT_LIMIT,
    LINE_PERMISSION,
    QUANTITY_LIMIT,
    TOTAL_LIMIT,
    LineData,
    _require,
    check_number,
    check_percent,
)

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


def check_billing_permissions(ctx: CallerContext, kinds: set[LineKind]) -> None:
    for kind in sorted(kinds):
        _require(ctx, LINE_PERMISSION[kind], "lines")


def _build_lines(ctx: CallerContext, invoice: Invoice, lines: list[LineData]) -> None:
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
