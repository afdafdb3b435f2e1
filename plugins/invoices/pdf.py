"""The invoice as a PDF (MISSION V5, V6), drawn with fpdf2.

fpdf2 is pure Python, actively maintained, and needs no system libraries; the core
Helvetica font covers Western European languages (Windows-1252), which is what the invoice
languages below use. Characters outside it print as "?" — embedding a Unicode TTF font is
the way to lift that limit later. Fixed labels follow the invoice's language; amounts and
dates are formatted for that language with Babel (CLDR data).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from gateway.sdk import FieldMode, effective_rules, has_full_access, printable
from plugins.invoices.models import Invoice
from plugins.invoices.services import CompanyProfile
from plugins.invoices.types import tax_summary

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "draft": "Draft invoice",
        "number": "Number",
        "date": "Date",
        "due": "Due date",
        "order": "Order number",
        "bill_to": "Bill to",
        "ship_to": "Deliver to",
        "description": "Description",
        "quantity": "Qty",
        "price": "Unit price",
        "discount": "Disc. %",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "total": "Total",
        "terms": "Payment terms",
        "notes": "Notes",
        "fiscal_id": "Tax ID",
    },
    "es": {
        "invoice": "Factura",
        "draft": "Borrador de factura",
        "number": "Número",
        "date": "Fecha",
        "due": "Vencimiento",
        "order": "Nº de pedido",
        "bill_to": "Facturar a",
        "ship_to": "Entregar a",
        "description": "Descripción",
        "quantity": "Cant.",
        "price": "Precio unidad",
        "discount": "Dto. %",
        "amount": "Importe",
        "subtotal": "Base imponible",
        "total": "Total",
        "terms": "Condiciones de pago",
        "notes": "Notas",
        "fiscal_id": "NIF",
    },
    "fr": {
        "invoice": "Facture",
        "draft": "Projet de facture",
        "number": "Numéro",
        "date": "Date",
        "due": "Échéance",
        "order": "N° de commande",
        "bill_to": "Facturer à",
        "ship_to": "Livrer à",
        "description": "Désignation",
        "quantity": "Qté",
        "price": "Prix unitaire",
        "discount": "Rem. %",
        "amount": "Montant",
        "subtotal": "Total HT",
        "total": "Total TTC",
        "terms": "Conditions de paiement",
        "notes": "Notes",
        "fiscal_id": "N° TVA",
    },
    "de": {
        "invoice": "Rechnung",
        "draft": "Rechnungsentwurf",
        "number": "Nummer",
        "date": "Datum",
        "due": "Fällig am",
        "order": "Bestellnummer",
        "bill_to": "Rechnung an",
        "ship_to": "Lieferung an",
        "description": "Beschreibung",
        "quantity": "Menge",
        "price": "Einzelpreis",
        "discount": "Rabatt %",
        "amount": "Betrag",
        "subtotal": "Zwischensumme",
        "total": "Gesamtbetrag",
        "terms": "Zahlungsbedingungen",
        "notes": "Anmerkungen",
        "fiscal_id": "USt-IdNr.",
    },
}
LANGUAGES = tuple(LABELS)


def labels_for(language: str) -> dict[str, str]:
    return LABELS.get(language.split("-")[0].lower(), LABELS["en"])


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _text(value: str) -> str:
    """What Helvetica (Windows-1252) can print: narrow spaces widened, the rest — control
    characters stored by older data included (gateway.text) — as '?'."""
    value = printable(value).replace("\u202f", "\xa0")
    return value.encode("cp1252", errors="replace").decode("cp1252")


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(16, 16, 16)

    def line_text(self, text: str, size: float = 9, bold: bool = False, h: float = 4.6) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, h, _text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


@dataclass(frozen=True)
class Shown:
    """What the caller may read of an invoice, so the PDF (and the mail) print no more than
    the API would answer: fields their profile hides are left out, and the notes
    (``@fullAccess``) only go to callers with full access to the invoice."""

    hidden: frozenset[tuple[str, str]] = frozenset()
    full_access: bool = True

    def __call__(self, type_name: str, field: str) -> bool:
        return (type_name, field) not in self.hidden

    @property
    def notes(self) -> bool:
        return self.full_access and self("Invoice", "notes")


def shown_to(context: Any, invoice: Invoice) -> Shown:
    """The caller's view of ``invoice``: effective field rules (a total derived from a
    hidden unit price is hidden too) and full access."""
    rules = effective_rules(getattr(context, "access", None))
    return Shown(
        hidden=frozenset(key for key, mode in rules.items() if mode is FieldMode.HIDDEN),
        full_access=has_full_access(context, invoice),
    )


def render(invoice: Invoice, company: CompanyProfile, shown: Shown | None = None) -> bytes:
    """The invoice's PDF: company block with logo, client and delivery blocks, lines with
    their taxes, tax summary and totals, terms and notes — as far as ``shown`` allows (the
    default shows everything: only for callers that see everything)."""
    shown = shown or Shown()
    words = labels_for(invoice.language)
    locale = _locale(invoice.language)

    def money(amount: Decimal) -> str:
        return format_currency(amount, invoice.currency, locale=locale)

    def number(value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=locale)

    pdf = _Document()
    pdf.add_page()
    top = pdf.get_y()
    if company.logo:
        try:
            pdf.image(io.BytesIO(company.logo), x=pdf.l_margin, y=top, h=18)
            pdf.set_y(top + 20)
        except Exception:
            pdf.set_y(top)
    pdf.line_text(company.name, size=12, bold=True)
    for part in (company.address, company.email, company.phone, company.website):
        if part:
            pdf.line_text(part)
    if company.fiscal_id:
        pdf.line_text(f"{words['fiscal_id']}: {company.fiscal_id}")
    pdf.ln(4)
    title = words["invoice"] if invoice.number_text else words["draft"]
    pdf.line_text(f"{title} {invoice.number_text or ''}".strip(), size=16, bold=True, h=8)
    facts = [
        (words[key], format_date(value, "medium", locale=locale))
        for key, field, value in (
            ("date", "issueDate", invoice.issue_date),
            ("due", "dueDate", invoice.due_date),
        )
        if shown("Invoice", field)
    ]
    if invoice.order_number and shown("Invoice", "orderNumber"):
        facts.append((words["order"], invoice.order_number))
    for label, value in facts:
        pdf.line_text(f"{label}: {value}")
    pdf.ln(3)
    client = invoice.client if shown("Invoice", "client") else None
    client_block = [
        client.display_name if client is not None and shown("Contact", "displayName") else ""
    ]
    if client is not None and client.fiscal_id and shown("Contact", "fiscalId"):
        client_block.append(f"{words['fiscal_id']}: {client.fiscal_id}")
    if shown("Invoice", "billingAddress"):
        client_block.append(invoice.billing_address)
    pdf.line_text(words["bill_to"], bold=True)
    pdf.line_text("\n".join(p for p in client_block if p))
    if (
        invoice.delivery_address
        and invoice.delivery_address != invoice.billing_address
        and shown("Invoice", "deliveryAddress")
    ):
        pdf.ln(2)
        pdf.line_text(words["ship_to"], bold=True)
        consignee = invoice.consignee if not invoice.consignee_same else None
        if not (shown("Invoice", "consignee") and shown("Contact", "displayName")):
            consignee = None
        head = [consignee.display_name] if consignee is not None else []
        pdf.line_text("\n".join([*head, invoice.delivery_address]))
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    lines = invoice.lines if shown("Invoice", "lines") else []
    line_columns = [
        (key, field)
        for key, field in (
            ("description", "description"),
            ("quantity", "quantity"),
            ("price", "unitPrice"),
            ("discount", "discount"),
            ("amount", "netAmount"),
        )
        if shown("InvoiceLine", field)
    ]
    widths = {"description": 80, "quantity": 18, "price": 28, "discount": 18, "amount": 34}
    if line_columns:
        with pdf.table(
            col_widths=tuple(widths[k] for k, _ in line_columns),
            text_align=tuple("LEFT" if k == "description" else "RIGHT" for k, _ in line_columns),
            first_row_as_headings=True,
        ) as table:
            table.row([_text(words[k]) for k, _ in line_columns])
            for line in lines:
                taxes = ""
                if shown("InvoiceLine", "taxes"):
                    taxes = ", ".join(f"{t.name} {number(t.rate)} %" for t in line.taxes)
                cells = {
                    "description": line.description + (f"\n({taxes})" if taxes else ""),
                    "quantity": number(line.quantity),
                    "price": money(line.unit_price),
                    "discount": number(line.discount) if line.discount else "",
                    "amount": money(line.net_amount),
                }
                table.row([_text(cells[k]) for k, _ in line_columns])
    pdf.ln(3)
    rows = []
    if shown("Invoice", "subtotal"):
        rows.append((words["subtotal"], money(invoice.subtotal)))
    if shown("Invoice", "taxes"):
        for (name, rate, _compound), amount in tax_summary(invoice).items():
            rows.append((f"{name} {number(rate)} %", money(amount)))
    if shown("Invoice", "total"):
        rows.append((words["total"], money(invoice.total)))
    for i, (label, value) in enumerate(rows):
        last = i == len(rows) - 1 and shown("Invoice", "total")
        pdf.set_font("Helvetica", "B" if last else "", 11 if last else 9)
        pdf.set_x(pdf.w - pdf.r_margin - 90)
        pdf.cell(56, 6, _text(label), align="R")
        pdf.cell(34, 6, _text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.terms and shown("Invoice", "terms"):
        pdf.ln(4)
        pdf.line_text(words["terms"], bold=True)
        pdf.line_text(invoice.terms)
    if invoice.notes and shown.notes:
        pdf.ln(2)
        pdf.line_text(words["notes"], bold=True)
        pdf.line_text(invoice.notes)
    return bytes(pdf.output())


def filename(invoice: Invoice) -> str:
    """``<number>.pdf``; a file name (and a mail attachment's) is one printable line."""
    return printable(f"{invoice.number_text or f'draft-{invoice.id}'}.pdf", one_line=True)
