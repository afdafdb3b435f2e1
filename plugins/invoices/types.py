"""GraphQL types of the invoices module."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.sdk import (
    AccessLevel,
    AccessLevelEnum,
    Node,
    Tenant,
    UserError,
    UserType,
    global_id,
    guarded,
    load_users,
    logo_data_url,
)
from plugins.contacts.types import ContactNode
from plugins.invoices import opportunities
from plugins.invoices.models import (
    DueTerm,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceStatus,
    InvoiceTax,
    ItemKind,
    LineKind,
)
from plugins.invoices.totals import round_money

strawberry.enum(InvoiceStatus, name="InvoiceStatus")
InvoiceStatusEnum: TypeAlias = InvoiceStatus
strawberry.enum(
    DueTerm,
    name="InvoiceDueTerm",
    description="When payment is due: on receipt, 15/30/45 days after the invoice date, or "
    "on a given date.",
)
DueTermEnum: TypeAlias = DueTerm
strawberry.enum(ItemKind, name="InvoiceItemKind")
ItemKindEnum: TypeAlias = ItemKind
strawberry.enum(
    LineKind,
    name="InvoiceLineKind",
    description="ARTICLE and SERVICE lines come from the catalogue; OTHER is a free concept. "
    "Each needs its billing permission.",
)
LineKindEnum: TypeAlias = LineKind


@strawberry.type(name="InvoiceTax", description="A tax of the catalogue.")
class InvoiceTaxType:
    record: strawberry.Private[InvoiceTax]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("InvoiceTax", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="In percent.")
    def rate(self) -> Decimal:
        return self.record.rate.normalize()

    @strawberry.field(
        description="Applies on the line's net amount plus the taxes before it on that line."
    )
    def compound(self) -> bool:
        return self.record.compound


@strawberry.type(name="InvoiceItem", description="A product (article) or service.")
class InvoiceItemType:
    record: strawberry.Private[InvoiceItem]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("InvoiceItem", self.record.id)

    @strawberry.field
    def kind(self) -> ItemKindEnum:
        return self.record.kind

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def description(self) -> str:
        return self.record.description

    @strawberry.field
    def price(self) -> Decimal:
        return self.record.price

    @strawberry.field
    def currency(self) -> str:
        return self.record.currency

    @strawberry.field(description="The tax proposed when the item is put on a line.")
    def default_tax_id(self) -> strawberry.ID | None:
        tax_id = self.record.tax_id
        return global_id("InvoiceTax", tax_id) if tax_id is not None else None


@strawberry.type(name="InvoiceSeries", description="A numbering series: prefix + padded number.")
class InvoiceSeriesType:
    record: strawberry.Private[InvoiceSeries]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("InvoiceSeries", self.record.id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field
    def prefix(self) -> str:
        return self.record.prefix

    @strawberry.field(description="The number the next issued invoice will take.")
    def next_number(self) -> int:
        return self.record.next_number

    @strawberry.field(description="Digits of the number, zero-padded (7: INV0000001).")
    def padding(self) -> int:
        return self.record.padding

    @strawberry.field
    def is_default(self) -> bool:
        return self.record.is_default

    @guarded(
        description="What the next number will look like.",
        derived_from=(
            "InvoiceSeries.nextNumber",
            "InvoiceSeries.prefix",
            "InvoiceSeries.padding",
        ),
    )
    def next_formatted(self) -> str:
        return self.record.format(self.record.next_number)


@strawberry.type(name="InvoiceSettings")
class InvoiceSettingsType:
    record: strawberry.Private[InvoiceSettings]

    @strawberry.field(description="Printed on invoices; empty: the organisation's legal name.")
    def company_name(self) -> str:
        return self.record.company_name

    @strawberry.field(description="Empty: the organisation's address.")
    def address(self) -> str:
        return self.record.address

    @strawberry.field(description="Empty: the organisation's fiscal ID.")
    def fiscal_id(self) -> str:
        return self.record.fiscal_id

    @strawberry.field(description="Payment terms new invoices start with.")
    def default_terms(self) -> str:
        return self.record.default_terms

    @strawberry.field(
        description="The logo printed on invoices: the organisation's (setOrganizationLogo), "
        "as a data URL."
    )
    def logo(self, info: Info) -> str | None:
        tenant = info.context.session.get(Tenant, self.record.tenant_id)
        return logo_data_url(tenant) if tenant is not None else None


@strawberry.type(name="InvoiceLineTax")
class InvoiceLineTaxType:
    name: str
    rate: Decimal
    compound: bool
    amount: Decimal = guarded(derived_from=("InvoiceLine.netAmount", "InvoiceLineTax.rate"))


#: What an invoice's amounts are computed from (gateway.access.fields): a caller whose field
#: rules hide a unit price may not read the net amount, the taxes or the totals built on it,
#: which would reveal it.
_NET = ("InvoiceLine.quantity", "InvoiceLine.unitPrice", "InvoiceLine.discount")


@strawberry.type(name="InvoiceLine")
class InvoiceLineType:
    record: strawberry.Private[InvoiceLine]
    currency: strawberry.Private[str]

    @strawberry.field
    def kind(self) -> LineKindEnum:
        return self.record.kind

    @strawberry.field
    def item_id(self) -> strawberry.ID | None:
        item_id = self.record.item_id
        return global_id("InvoiceItem", item_id) if item_id is not None else None

    @strawberry.field
    def description(self) -> str:
        return self.record.description

    @strawberry.field
    def quantity(self) -> Decimal:
        return self.record.quantity

    @strawberry.field
    def unit_price(self) -> Decimal:
        return self.record.unit_price

    @strawberry.field(description="In percent.")
    def discount(self) -> Decimal:
        return self.record.discount.normalize()

    @guarded(description="Quantity x unit price - discount, rounded half-up.", derived_from=_NET)
    def net_amount(self) -> Decimal:
        return _money(self.record.net_amount, self.currency)

    @guarded(derived_from=("InvoiceLine.taxes", "InvoiceLineTax.amount"))
    def tax_amount(self) -> Decimal:
        return _money(self.record.tax_amount, self.currency)

    @strawberry.field
    def taxes(self) -> list[InvoiceLineTaxType]:
        return [
            InvoiceLineTaxType(
                name=t.name,
                rate=t.rate.normalize(),
                compound=t.compound,
                amount=_money(t.amount, self.currency),
            )
            for t in self.record.taxes
        ]


@strawberry.type(description="The taxes of an invoice summed by tax and rate.")
class InvoiceTaxSummary:
    name: str
    rate: Decimal
    compound: bool
    amount: Decimal = guarded(derived_from=("InvoiceLineTax.amount",))


def _money(value: Decimal, currency: str) -> Decimal:
    """Stored amounts carry 4 decimals; answer them at the currency's minor unit."""
    return round_money(value, currency)


@strawberry.type(name="Invoice")
class InvoiceNode(Node):
    record: strawberry.Private[Invoice]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Invoice", self.record.id)

    @strawberry.field(description="Set when issued (Draft → Billed); drafts have none.")
    def number(self) -> str | None:
        return self.record.number_text

    @strawberry.field
    def status(self) -> InvoiceStatusEnum:
        return self.record.status

    @strawberry.field
    def series_id(self) -> strawberry.ID | None:
        sid = self.record.series_id
        return global_id("InvoiceSeries", sid) if sid is not None else None

    @strawberry.field
    def issue_date(self) -> date:
        return self.record.issue_date

    @strawberry.field
    def due_term(self) -> DueTermEnum:
        return self.record.due_term

    @strawberry.field
    def due_date(self) -> date:
        return self.record.due_date

    @strawberry.field(description="The client (null if you may not see that contact).")
    def client(self) -> ContactNode | None:
        found = self.record.client
        return ContactNode(record=found) if found is not None else None

    @strawberry.field
    def billing_address(self) -> str:
        return self.record.billing_address

    @strawberry.field(description="The consignee when it is not the client.")
    def consignee(self) -> ContactNode | None:
        if self.record.consignee_same or self.record.consignee_id is None:
            return None
        found = self.record.consignee
        return ContactNode(record=found) if found is not None else None

    @guarded(description="The consignee is the client.", derived_from=("Invoice.consignee",))
    def consignee_same_as_client(self) -> bool:
        return self.record.consignee_same

    @strawberry.field
    def delivery_address(self) -> str:
        return self.record.delivery_address

    @guarded(
        description="The linked opportunity's ID: null when there is no link, the leads "
        "module is off, or you may not see the opportunity.",
        derived_from=("Invoice.opportunity",),
    )
    def opportunity_id(self, info: Info) -> strawberry.ID | None:
        oid = opportunities.visible_id(info.context, self.record.opportunity_id)
        return global_id("Opportunity", oid) if oid is not None else None

    @guarded(
        description="The linked opportunity (an `Opportunity` of the leads module), or null: "
        "no link, the leads module is off, or you may not see it.",
        derived_from=("Invoice.opportunityId",),
    )
    def opportunity(self, info: Info) -> Node | None:
        return opportunities.node_of(info.context, self.record.opportunity_id)

    @strawberry.field
    def language(self) -> str:
        return self.record.language

    @strawberry.field
    def currency(self) -> str:
        return self.record.currency

    @strawberry.field
    def order_number(self) -> str:
        return self.record.order_number

    @strawberry.field
    def terms(self) -> str:
        return self.record.terms

    @guarded(full_access=True, description="Notes: printed and mailed; needs full access.")
    def notes(self) -> str | None:
        return self.record.notes

    @strawberry.field
    def lines(self) -> list[InvoiceLineType]:
        return [
            InvoiceLineType(record=line, currency=self.record.currency)
            for line in self.record.lines
        ]

    @guarded(
        description="Sum of the lines' net amounts.",
        derived_from=("Invoice.lines", "InvoiceLine.netAmount"),
    )
    def subtotal(self) -> Decimal:
        return _money(self.record.subtotal, self.record.currency)

    @guarded(
        description="Sum of the lines' taxes.",
        derived_from=(
            "Invoice.lines",
            "InvoiceLine.taxAmount",
            "Invoice.taxes",
            "InvoiceTaxSummary.amount",
        ),
    )
    def tax_total(self) -> Decimal:
        return _money(self.record.tax_total, self.record.currency)

    @guarded(derived_from=("Invoice.subtotal", "Invoice.taxTotal"))
    def total(self) -> Decimal:
        return _money(self.record.total, self.record.currency)

    @guarded(
        description="Taxes summed by name and rate, in order of first use.",
        derived_from=("Invoice.lines", "InvoiceLine.taxes"),
    )
    def taxes(self) -> list[InvoiceTaxSummary]:
        return [
            InvoiceTaxSummary(name=n, rate=r.normalize(), compound=c, amount=a)
            for (n, r, c), a in tax_summary(self.record).items()
        ]

    @strawberry.field
    def access(self) -> AccessLevelEnum:
        return AccessLevel(self.record.access)

    @strawberry.field(description="The user responsible for the invoice.")
    def owner(self, info: Info) -> UserType | None:
        owner_id = self.record.owner_id
        found = load_users(info.context, [owner_id]).get(owner_id) if owner_id else None
        return UserType(record=found) if found else None

    @strawberry.field
    def issued_at(self) -> datetime | None:
        return self.record.issued_at

    @strawberry.field
    def sent_at(self) -> datetime | None:
        return self.record.sent_at

    @strawberry.field(description="When it was marked paid (null unless it is PAID).")
    def paid_at(self) -> datetime | None:
        return self.record.paid_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at


def tax_summary(invoice: Invoice) -> dict[tuple[str, Decimal, bool], Decimal]:
    """Tax amounts of an invoice grouped by (name, rate, compound), in order of first use."""
    summary: dict[tuple[str, Decimal, bool], Decimal] = {}
    for line in invoice.lines:
        for tax in line.taxes:
            key = (tax.name, tax.rate, tax.compound)
            summary[key] = summary.get(key, Decimal(0)) + tax.amount
    return {k: _money(v, invoice.currency) for k, v in summary.items()}


@strawberry.type
class InvoicePayload:
    invoice: InvoiceNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteInvoicePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvoiceTaxPayload:
    tax: InvoiceTaxType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvoiceItemPayload:
    item: InvoiceItemType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvoiceSeriesPayload:
    series: InvoiceSeriesType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvoiceSettingsPayload:
    settings: InvoiceSettingsType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SendInvoicePayload:
    invoice: InvoiceNode | None = None
    sent_to: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
