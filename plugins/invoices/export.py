"""Invoice lists as an Excel workbook (MISSION V5). Cells are values, never formulas
(see gateway/excel.py); amounts are numbers so the sheet can sum them. Like the contacts'
export, columns the caller's profile hides (field rules) are left out: the file must not
show what the API would refuse to answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.sdk import FieldMode, excel
from plugins.invoices.models import Invoice, InvoiceLine

#: (GraphQL type, field, header, value) — the GraphQL names are what field rules refer to.
COLUMNS: list[tuple[str, str, str, Any]] = [
    ("Invoice", "number", "Number", lambda inv: inv.number_text or ""),
    ("Invoice", "status", "Status", lambda inv: inv.status.value),
    ("Invoice", "issueDate", "Date", lambda inv: inv.issue_date),
    ("Invoice", "dueDate", "Due date", lambda inv: inv.due_date),
    (
        "Invoice",
        "client",
        "Client",
        lambda inv: inv.client.display_name if inv.client is not None else "",
    ),
    ("Invoice", "orderNumber", "Order number", lambda inv: inv.order_number),
    ("Invoice", "currency", "Currency", lambda inv: inv.currency),
    ("Invoice", "subtotal", "Subtotal", lambda inv: inv.subtotal),
    ("Invoice", "taxTotal", "Taxes", lambda inv: inv.tax_total),
    ("Invoice", "total", "Total", lambda inv: inv.total),
    ("Invoice", "lines", "Lines", lambda inv: len(inv.lines)),
]
LINE_COLUMNS: list[tuple[str, str, str, Any]] = [
    ("Invoice", "number", "Invoice", lambda inv, _: inv.number_text or f"draft {inv.id}"),
    ("InvoiceLine", "description", "Description", lambda _, line: line.description),
    ("InvoiceLine", "kind", "Kind", lambda _, line: line.kind.value),
    ("InvoiceLine", "quantity", "Quantity", lambda _, line: line.quantity),
    ("InvoiceLine", "unitPrice", "Unit price", lambda _, line: line.unit_price),
    ("InvoiceLine", "discount", "Discount %", lambda _, line: line.discount),
    ("InvoiceLine", "netAmount", "Net amount", lambda _, line: line.net_amount),
    ("InvoiceLine", "taxAmount", "Taxes", lambda _, line: line.tax_amount),
]
HEADER = tuple(header for _, _, header, _ in COLUMNS)
LINE_HEADER = tuple(header for _, _, header, _ in LINE_COLUMNS)
#: Field rules by (GraphQL type, field): gateway.access.fields.effective_rules.
Rules = Mapping[tuple[str, str], FieldMode]


def _visible(
    columns: list[tuple[str, str, str, Any]], rules: Rules
) -> list[tuple[str, str, str, Any]]:
    return [c for c in columns if rules.get((c[0], c[1])) is not FieldMode.HIDDEN]


def invoices_workbook(rows: Sequence[Invoice], rules: Rules | None = None) -> bytes:
    """Sheet "Invoices" (one row per invoice) and sheet "Lines" (one row per line), without
    the columns ``rules`` (the caller's effective field rules) hide; with ``Invoice.lines``
    hidden the "Lines" sheet has its header only. No exported field needs full access (notes
    are not exported)."""
    rules = rules or {}
    columns = _visible(COLUMNS, rules)
    line_columns = _visible(LINE_COLUMNS, rules)
    if rules.get(("Invoice", "client")) is not FieldMode.HIDDEN and (
        rules.get(("Contact", "displayName")) is FieldMode.HIDDEN
    ):
        columns = [c for c in columns if c[1] != "client"]
    lines_shown = rules.get(("Invoice", "lines")) is not FieldMode.HIDDEN
    book = excel.new_workbook()
    excel.add_sheet(
        book,
        "Invoices",
        [header for _, _, header, _ in columns],
        ([value(inv) for _, _, _, value in columns] for inv in rows),
    )
    line_rows: list[tuple[Invoice, InvoiceLine]] = (
        [(inv, line) for inv in rows for line in inv.lines] if lines_shown else []
    )
    excel.add_sheet(
        book,
        "Lines",
        [header for _, _, header, _ in line_columns],
        ([value(inv, line) for _, _, _, value in line_columns] for inv, line in line_rows),
    )
    return excel.to_bytes(book)
