"""GraphQL inputs of the invoices module, and their translation to service data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from gateway.sdk import LONG_TEXT, AccessLevelEnum, Direction, parse_global_id, text
from plugins.invoices.models import DueTerm, InvoiceStatus, LineKind
from plugins.invoices.services import TEXT_LIMITS, InvoiceData, LineData
from plugins.invoices.types import DueTermEnum, InvoiceStatusEnum, ItemKindEnum, LineKindEnum

#: What the services keep of terms, notes and item descriptions.
NOTES_LIMIT = 5000


@strawberry.input(
    description="A line: a catalogue item (`itemId`; price, description and tax default "
    "from it) or a free OTHER concept (give `description` and `unitPrice`)."
)
class InvoiceLineInput:
    item_id: strawberry.ID | None = None
    kind: LineKindEnum | None = None
    description: str | None = text(LONG_TEXT, multiline=True, default=None)
    quantity: Decimal = strawberry.field(default=Decimal(1), description="At most 3 decimals.")
    unit_price: Decimal | None = None
    discount: Decimal | None = strawberry.field(default=None, description="In percent.")
    tax_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Taxes in the order they apply (compound ones see the previous ones); "
        "omitted: the item's default tax.",
    )

    def to_data(self, position: int) -> LineData:
        where = f"lines.{position}"
        return LineData(
            kind=LineKind(self.kind.value) if self.kind is not None else None,
            item_id=parse_global_id(self.item_id, "InvoiceItem", f"{where}.itemId")
            if self.item_id
            else None,
            description=self.description,
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount=self.discount,
            tax_ids=[parse_global_id(t, "InvoiceTax", f"{where}.taxIds") for t in self.tax_ids]
            if self.tax_ids is not None
            else None,
        )


@strawberry.input(description="A new draft invoice. Unset fields default from the client.")
class CreateInvoiceInput:
    client_id: strawberry.ID
    billing_address: str | None = text(TEXT_LIMITS["billing_address"], multiline=True, default=None)
    consignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="Omitted: the consignee is the client."
    )
    delivery_address: str | None = text(
        TEXT_LIMITS["delivery_address"],
        multiline=True,
        default=None,
        description="Omitted: the consignee's address (the billing address).",
    )
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=None, description="An opportunity of the leads module, when it is on."
    )
    series_id: strawberry.ID | None = None
    issue_date: date | None = None
    due_term: DueTermEnum | None = None
    due_date: date | None = strawberry.field(default=None, description="With dueTerm DATE.")
    language: str | None = None
    currency: str | None = None
    order_number: str | None = text(TEXT_LIMITS["order_number"], default=None)
    terms: str | None = text(
        NOTES_LIMIT, multiline=True, default=None, description="Omitted: the default terms."
    )
    notes: str | None = text(NOTES_LIMIT, multiline=True, default=None)
    access: AccessLevelEnum | None = None
    owner_id: strawberry.ID | None = None
    lines: list[InvoiceLineInput] | None = None


@strawberry.input(description="Changes to a draft; omitted fields stay, `lines` replaces all.")
class UpdateInvoiceInput:
    client_id: strawberry.ID | None = strawberry.UNSET
    billing_address: str | None = text(
        TEXT_LIMITS["billing_address"], multiline=True, default=strawberry.UNSET
    )
    consignee_id: strawberry.ID | None = strawberry.UNSET
    delivery_address: str | None = text(
        TEXT_LIMITS["delivery_address"], multiline=True, default=strawberry.UNSET
    )
    opportunity_id: strawberry.ID | None = strawberry.UNSET
    series_id: strawberry.ID | None = strawberry.UNSET
    issue_date: date | None = strawberry.UNSET
    due_term: DueTermEnum | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    order_number: str | None = text(TEXT_LIMITS["order_number"], default=strawberry.UNSET)
    terms: str | None = text(NOTES_LIMIT, multiline=True, default=strawberry.UNSET)
    notes: str | None = text(NOTES_LIMIT, multiline=True, default=strawberry.UNSET)
    access: AccessLevelEnum | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    lines: list[InvoiceLineInput] | None = strawberry.UNSET


_IDS = {
    "client_id": ("contact_id", "Contact", "clientId"),
    "consignee_id": ("consignee_id", "Contact", "consigneeId"),
    "opportunity_id": ("opportunity_id", "Opportunity", "opportunityId"),
    "series_id": ("series_id", "InvoiceSeries", "seriesId"),
    "owner_id": ("owner_id", "User", "ownerId"),
}
_SKIP_NONE = {
    "client_id",
    "series_id",
    "issue_date",
    "due_term",
    "access",
    "owner_id",
    "language",
    "currency",
}


def to_data(source: CreateInvoiceInput | UpdateInvoiceInput) -> InvoiceData:
    values: dict[str, Any] = {}
    for name in (
        "client_id",
        "billing_address",
        "consignee_id",
        "delivery_address",
        "opportunity_id",
        "series_id",
        "issue_date",
        "due_term",
        "due_date",
        "language",
        "currency",
        "order_number",
        "terms",
        "notes",
        "access",
        "owner_id",
    ):
        value = getattr(source, name)
        creating = isinstance(source, CreateInvoiceInput)
        if value is strawberry.UNSET or (value is None and (creating or name in _SKIP_NONE)):
            continue
        if name in _IDS:
            key, type_name, field = _IDS[name]
            values[key] = parse_global_id(value, type_name, field) if value else None
        elif name == "due_term":
            values[name] = DueTerm(value.value)
        elif name == "access":
            values[name] = value.value if isinstance(value, Enum) else value
        else:
            values[name] = value
    lines = source.lines
    return InvoiceData(
        values=values,
        lines=[line.to_data(i) for i, line in enumerate(lines)]
        if lines not in (None, strawberry.UNSET)
        else None,
    )


@strawberry.input
class InvoiceFilterInput:
    status: list[InvoiceStatusEnum] | None = None
    client_id: strawberry.ID | None = None
    mine: bool = strawberry.field(default=False, description="Only invoices you own.")
    overdue: bool = strawberry.field(
        default=False, description="Only billed invoices past their due date."
    )
    issued_from: date | None = None
    issued_to: date | None = None
    search: str | None = strawberry.field(
        default=None, description="In the number and order number."
    )

    def statuses(self) -> list[InvoiceStatus] | None:
        return [InvoiceStatus(s.value) for s in self.status] if self.status else None


@strawberry.enum
class InvoiceSortField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


#: The ``Invoice`` fields each filter and sort order read (refused when a field rule hides
#: them: gateway.access.fields.check_filterable_fields).
INVOICE_FILTER_READS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "client_id": ("client",),
    "mine": ("owner",),
    "overdue": ("status", "dueDate"),
    "issued_from": ("issueDate",),
    "issued_to": ("issueDate",),
    "search": ("number", "orderNumber"),
}
INVOICE_SORT_READS: dict[str, tuple[str, ...]] = {
    "created_at": ("createdAt",),
    "updated_at": ("updatedAt",),
}


@strawberry.input
class InvoiceOrder:
    field: InvoiceSortField = InvoiceSortField.CREATED_AT
    direction: Direction = Direction.DESC


@strawberry.input
class InvoiceTaxInput:
    name: str | None = text(80, default=strawberry.UNSET)
    rate: Decimal | None = strawberry.UNSET
    compound: bool | None = strawberry.UNSET


@strawberry.input
class InvoiceItemInput:
    kind: ItemKindEnum | None = strawberry.UNSET
    name: str | None = text(200, default=strawberry.UNSET)
    description: str | None = text(NOTES_LIMIT, multiline=True, default=strawberry.UNSET)
    price: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    tax_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class InvoiceSeriesInput:
    name: str | None = text(80, default=strawberry.UNSET)
    prefix: str | None = text(20, default=strawberry.UNSET)
    next_number: int | None = strawberry.UNSET
    padding: int | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET


@strawberry.input
class InvoiceSettingsInput:
    company_name: str | None = text(200, default=None)
    address: str | None = text(500, multiline=True, default=None)
    fiscal_id: str | None = text(40, default=None)
    default_terms: str | None = text(NOTES_LIMIT, multiline=True, default=None)


def given(source: Any, *names: str) -> dict[str, Any]:
    """The attributes the caller set (UNSET left out)."""
    return {n: getattr(source, n) for n in names if getattr(source, n) is not strawberry.UNSET}
