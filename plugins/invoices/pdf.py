"""The invoice as a PDF (MISSION V5, V6), drawn with fpdf2.

fpdf2 is pure Python, actively maintained, and needs no system libraries; the core
Helvetica font covers Western European languages (Windows-1252), which is what the invoice
languages below use. Characters outside it print as "?" — embedding a Unicode TTF font is
the way to lift that limit later. Fixed labels follow the invoice's language; amounts and
dates are formatted for that language with Babel (CLDR data).
"""

from __future__ import annotations

import io
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos

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
    """What Helvetica (Windows-1252) can print: narrow spaces widened, the rest as '?'."""
    value = value.replace("\u202f", "\xa0")
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


def render(invoice: Invoice, company: CompanyProfile) -> bytes:
    """The invoice's PDF: company block with logo, client and delivery blocks, lines with
    their taxes, tax summary and totals, terms and notes."""
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
        (words["date"], format_date(invoice.issue_date, "medium", locale=locale)),
        (words["due"], format_date(invoice.due_date, "medium", locale=locale)),
    ]
    if invoice.order_number:
        facts.append((words["order"], invoice.order_number))
    for label, value in facts:
        pdf.line_text(f"{label}: {value}")
    pdf.ln(3)
    client = invoice.client
    client_block = [client.display_name if client is not None else ""]
    if client is not None and client.fiscal_id:
        client_block.append(f"{words['fiscal_id']}: {client.fiscal_id}")
    client_block.append(invoice.billing_address)
    pdf.line_text(words["bill_to"], bold=True)
    pdf.line_text("\n".join(p for p in client_block if p))
    if invoice.delivery_address and invoice.delivery_address != invoice.billing_address:
        pdf.ln(2)
        pdf.line_text(words["ship_to"], bold=True)
        consignee = invoice.consignee if not invoice.consignee_same else None
        head = [consignee.display_name] if consignee is not None else []
        pdf.line_text("\n".join([*head, invoice.delivery_address]))
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(
        col_widths=(80, 18, 28, 18, 34),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        first_row_as_headings=True,
    ) as table:
        table.row(
            [_text(words[k]) for k in ("description", "quantity", "price", "discount", "amount")]
        )
        for line in invoice.lines:
            taxes = ", ".join(f"{t.name} {number(t.rate)} %" for t in line.taxes)
            description = line.description + (f"\n({taxes})" if taxes else "")
            table.row(
                [
                    _text(description),
                    _text(number(line.quantity)),
                    _text(money(line.unit_price)),
                    _text(number(line.discount)) if line.discount else "",
                    _text(money(line.net_amount)),
                ]
            )
    pdf.ln(3)
    rows = [(words["subtotal"], money(invoice.subtotal))]
    for (name, rate, _compound), amount in tax_summary(invoice).items():
        rows.append((f"{name} {number(rate)} %", money(amount)))
    rows.append((words["total"], money(invoice.total)))
    for i, (label, value) in enumerate(rows):
        last = i == len(rows) - 1
        pdf.set_font("Helvetica", "B" if last else "", 11 if last else 9)
        pdf.set_x(pdf.w - pdf.r_margin - 90)
        pdf.cell(56, 6, _text(label), align="R")
        pdf.cell(34, 6, _text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.terms:
        pdf.ln(4)
        pdf.line_text(words["terms"], bold=True)
        pdf.line_text(invoice.terms)
    if invoice.notes:
        pdf.ln(2)
        pdf.line_text(words["notes"], bold=True)
        pdf.line_text(invoice.notes)
    return bytes(pdf.output())


def filename(invoice: Invoice) -> str:
    return f"{invoice.number_text or f'draft-{invoice.id}'}.pdf"
