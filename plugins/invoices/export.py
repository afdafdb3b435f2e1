"""Invoice lists as an Excel workbook (MISSION V5). Cells are values, never formulas
(see gateway/excel.py); amounts are numbers so the sheet can sum them."""

from __future__ import annotations

from collections.abc import Sequence

from gateway import excel
from plugins.invoices.models import Invoice

HEADER = (
    "Number",
    "Status",
    "Date",
    "Due date",
    "Client",
    "Order number",
    "Currency",
    "Subtotal",
    "Taxes",
    "Total",
    "Lines",
)
LINE_HEADER = (
    "Invoice",
    "Description",
    "Kind",
    "Quantity",
    "Unit price",
    "Discount %",
    "Net amount",
    "Taxes",
)


def invoices_workbook(rows: Sequence[Invoice]) -> bytes:
    """Sheet "Invoices" (one row per invoice) and sheet "Lines" (one row per line)."""
    book = excel.new_workbook()
    excel.add_sheet(
        book,
        "Invoices",
        HEADER,
        (
            (
                inv.number_text or "",
                inv.status.value,
                inv.issue_date,
                inv.due_date,
                inv.client.display_name if inv.client is not None else "",
                inv.order_number,
                inv.currency,
                inv.subtotal,
                inv.tax_total,
                inv.total,
                len(inv.lines),
            )
            for inv in rows
        ),
    )
    excel.add_sheet(
        book,
        "Lines",
        LINE_HEADER,
        (
            (
                inv.number_text or f"draft {inv.id}",
                line.description,
                line.kind.value,
                line.quantity,
                line.unit_price,
                line.discount,
                line.net_amount,
                line.tax_amount,
            )
            for inv in rows
            for line in inv.lines
        ),
    )
    return excel.to_bytes(book)
