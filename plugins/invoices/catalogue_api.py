"""Catalogue and settings root fields (invoices.manage_settings): taxes, items, series, settings."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.orm import Session

from gateway.sdk import (
    CallerContext,
    NotFound,
    UserError,
    guarded,
    mutate,
    parse_global_id,
)
from plugins.invoices import services
from plugins.invoices.inputs import (
    InvoiceItemInput,
    InvoiceSeriesInput,
    InvoiceSettingsInput,
    InvoiceTaxInput,
    given,
)
from plugins.invoices.loading import Ctx
from plugins.invoices.models import (
    Invoice,
    InvoiceItem,
    InvoiceSeries,
    InvoiceTax,
)
from plugins.invoices.permissions import InvoicesPermission as P
from plugins.invoices.types import (
    InvoiceItemPayload,
    InvoiceItemType,
    InvoiceNode,
    InvoiceSeriesPayload,
    InvoiceSeriesType,
    InvoiceSettingsPayload,
    InvoiceSettingsType,
    InvoiceTaxPayload,
    InvoiceTaxType,
)

# -- catalogues and settings ----------------------------------------------------------------


def _manage(ctx: CallerContext) -> int:
    """The caller's tenant; the root fields declare ``MANAGE_SETTINGS`` (checked before
    execution)."""
    return ctx.require_caller().tenant_id


def _found(session: Session, model: Any, id: strawberry.ID | None, type_name: str) -> Any:
    if id is None:
        return None
    found = session.get(model, parse_global_id(id, type_name))
    if found is None:
        raise NotFound(f"no such {type_name}", field="id")
    return found


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Create (without `id`) or change a tax of the catalogue.",
)
def save_invoice_tax(
    info: Ctx, input: InvoiceTaxInput, id: strawberry.ID | None = None
) -> InvoiceTaxPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> InvoiceTax:
        found = _found(session, InvoiceTax, id, "InvoiceTax")
        return services.save_tax(
            session, tenant_id, found, given(input, "name", "rate", "compound")
        )

    return mutate(
        ctx, InvoiceTaxPayload, work, lambda r: InvoiceTaxPayload(tax=InvoiceTaxType(record=r))
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Create (without `id`) or change a product or service.",
)
def save_invoice_item(
    info: Ctx, input: InvoiceItemInput, id: strawberry.ID | None = None
) -> InvoiceItemPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> InvoiceItem:
        found = _found(session, InvoiceItem, id, "InvoiceItem")
        values = given(input, "kind", "name", "description", "price", "currency", "tax_id")
        if values.get("kind") is not None:
            values["kind"] = values["kind"].value
        if "tax_id" in values:
            raw = values["tax_id"]
            values["tax_id"] = parse_global_id(raw, "InvoiceTax", "taxId") if raw else None
        return services.save_item(session, tenant_id, found, values)

    return mutate(
        ctx, InvoiceItemPayload, work, lambda r: InvoiceItemPayload(item=InvoiceItemType(record=r))
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Create (without `id`) or change a numbering series: prefix, next number "
    "(never at or below one already issued), padding.",
)
def save_invoice_series(
    info: Ctx, input: InvoiceSeriesInput, id: strawberry.ID | None = None
) -> InvoiceSeriesPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> InvoiceSeries:
        found = _found(session, InvoiceSeries, id, "InvoiceSeries")
        values = given(input, "name", "prefix", "next_number", "padding", "is_default")
        return services.save_series(session, tenant_id, found, values)

    return mutate(
        ctx,
        InvoiceSeriesPayload,
        work,
        lambda r: InvoiceSeriesPayload(series=InvoiceSeriesType(record=r)),
    )


@strawberry.type
class RebaseInvoiceSeriesPayload:
    series: InvoiceSeriesType | None = None
    redated: list[InvoiceNode] = strawberry.field(
        default_factory=list, description="The issued invoices whose dates were corrected."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.mutation(
    description="Administrators only: unblock a numbering series in which an issued invoice "
    "is dated after tomorrow (data from before issue dates were bounded), which stops anyone "
    "from issuing in it since dates follow the numbers. Each such invoice is re-dated to the "
    "day it was really issued (its issuedAt in the organisation's time zone, never before the "
    "previous number's date) and its due date moves with it; numbers do not change. Recorded "
    "as an invoice change like any other; nothing to correct answers an empty `redated`."
)
def rebase_invoice_series(info: Ctx, id: strawberry.ID) -> RebaseInvoiceSeriesPayload:
    ctx = info.context
    ctx.require_admin()

    def work(session: Session) -> tuple[InvoiceSeries, list[Invoice]]:
        return services.rebase_series(ctx, parse_global_id(id, "InvoiceSeries"))

    return mutate(
        ctx,
        RebaseInvoiceSeriesPayload,
        work,
        lambda r: RebaseInvoiceSeriesPayload(
            series=InvoiceSeriesType(record=r[0]),
            redated=[InvoiceNode(record=i) for i in r[1]],
        ),
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Set the company profile printed on invoices and the default payment terms "
    "(the logo is the organisation's: setOrganizationLogo).",
)
def update_invoice_settings(info: Ctx, input: InvoiceSettingsInput) -> InvoiceSettingsPayload:
    ctx = info.context
    tenant_id = _manage(ctx)

    def work(session: Session) -> Any:
        values = {
            "company_name": input.company_name,
            "address": input.address,
            "fiscal_id": input.fiscal_id,
            "default_terms": input.default_terms,
        }
        return services.save_settings(session, tenant_id, values)

    return mutate(
        ctx,
        InvoiceSettingsPayload,
        work,
        lambda r: InvoiceSettingsPayload(settings=InvoiceSettingsType(record=r)),
    )


@strawberry.type
class RemovedInvoiceEntryPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def _remove(info: Ctx, model: Any, id: strawberry.ID, type_name: str) -> RemovedInvoiceEntryPayload:
    ctx = info.context
    _manage(ctx)

    def work(session: Session) -> bool:
        session.delete(_found(session, model, id, type_name))
        return True

    return mutate(
        ctx, RemovedInvoiceEntryPayload, work, lambda _: RemovedInvoiceEntryPayload(ok=True)
    )


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Remove a tax from the catalogue; lines keep the name and rate they used.",
)
def delete_invoice_tax(info: Ctx, id: strawberry.ID) -> RemovedInvoiceEntryPayload:
    return _remove(info, InvoiceTax, id, "InvoiceTax")


@guarded(
    permission=P.MANAGE_SETTINGS.value,
    description="Remove a product or service from the catalogue; lines keep their text and price.",
)
def delete_invoice_item(info: Ctx, id: strawberry.ID) -> RemovedInvoiceEntryPayload:
    return _remove(info, InvoiceItem, id, "InvoiceItem")
