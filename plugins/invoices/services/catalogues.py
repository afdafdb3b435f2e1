"""Catalogues and settings (invoices.manage_settings): taxes, items, series, company profile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.sdk import (
    BadUserInput,
    Conflict,
    NotFound,
    Tenant,
)
from plugins.invoices.models import (
    Invoice,
    InvoiceItem,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceTax,
    ItemKind,
)
from plugins.invoices.services.common import (
    AMOUNT_LIMIT,
    _check_text,
    _system,
    check_currency,
    check_number,
    check_percent,
    flush_unique,
    settings_of,
)
from plugins.invoices.services.drafts import _camel

# -- catalogues and settings (invoices.manage_settings) -------------------------------------


NAME_TAKEN = "that name is already used"


def _name(session: Session, model: Any, value: str, limit: int, exclude: int | None) -> str:
    clean = (value or "").strip()
    if not clean or len(clean) > limit:
        raise BadUserInput(f"a name of 1 to {limit} characters", field="name")
    stmt = select(model.id).where(model.name == clean)
    if exclude is not None:
        stmt = stmt.where(model.id != exclude)
    if session.scalar(stmt) is not None:
        raise Conflict(NAME_TAKEN, field="name")
    return clean


def save_tax(
    session: Session, tenant_id: int, tax: InvoiceTax | None, values: dict[str, Any]
) -> InvoiceTax:
    tax = tax or InvoiceTax(tenant_id=tenant_id, compound=False)
    if "name" in values or tax.id is None:
        tax.name = _name(session, InvoiceTax, values.get("name", ""), 80, tax.id)
    if "rate" in values or tax.id is None:
        tax.rate = check_percent(values.get("rate"), "rate")
    if values.get("compound") is not None:
        tax.compound = values["compound"]
    session.add(tax)
    flush_unique(session, NAME_TAKEN, "name")
    return tax


def save_item(
    session: Session, tenant_id: int, item: InvoiceItem | None, values: dict[str, Any]
) -> InvoiceItem:
    item = item or InvoiceItem(tenant_id=tenant_id, description="", currency="EUR")
    if "name" in values or item.id is None:
        item.name = _name(session, InvoiceItem, values.get("name", ""), 200, item.id)
    if values.get("kind") is not None:
        item.kind = ItemKind(values["kind"])
    elif item.id is None:
        raise BadUserInput("say whether it is an article or a service", field="kind")
    if "price" in values or item.id is None:
        item.price = check_number(
            values.get("price"), "price", limit=AMOUNT_LIMIT, places=4, what="a price"
        )
    if values.get("currency") is not None:
        item.currency = check_currency(values["currency"])
    if "description" in values:
        item.description = _check_text(values["description"], 5000, "description")
    if "tax_id" in values:
        tax_id = values["tax_id"]
        if tax_id is not None and session.get(InvoiceTax, tax_id) is None:
            raise NotFound("no such tax", field="taxId")
        item.tax_id = tax_id
    session.add(item)
    flush_unique(session, NAME_TAKEN, "name")
    return item


def save_series(
    session: Session, tenant_id: int, series: InvoiceSeries | None, values: dict[str, Any]
) -> InvoiceSeries:
    """Create or change a series' format. The next number may not fall at or below a number
    already issued in the series (that would break uniqueness)."""
    series = series or InvoiceSeries(tenant_id=tenant_id, prefix="INV", next_number=1, padding=7)
    if "name" in values or series.id is None:
        series.name = _name(session, InvoiceSeries, values.get("name", ""), 80, series.id)
    if values.get("prefix") is not None:
        prefix = values["prefix"].strip()
        if len(prefix) > 20 or not re.fullmatch(r"[\w\-/.]*", prefix):
            raise BadUserInput("at most 20 letters, digits, '-', '/', '.', '_'", field="prefix")
        series.prefix = prefix
    if values.get("padding") is not None:
        if not (1 <= values["padding"] <= 12):
            raise BadUserInput("between 1 and 12 digits", field="padding")
        series.padding = values["padding"]
    if values.get("next_number") is not None:
        wanted = values["next_number"]
        highest = None
        if series.id is not None:
            highest = session.scalar(
                _system(
                    select(func.max(Invoice.number)).where(
                        Invoice.tenant_id == tenant_id, Invoice.series_id == series.id
                    )
                )
            )
        if wanted < 1 or (highest is not None and wanted <= highest):
            raise BadUserInput(
                f"the next number must be above {highest or 0}, the last one issued",
                field="nextNumber",
            )
        series.next_number = wanted
    if values.get("is_default"):
        session.execute(update(InvoiceSeries).values(is_default=False))
        series.is_default = True
    session.add(series)
    flush_unique(session, NAME_TAKEN, "name")
    return series


def save_settings(session: Session, tenant_id: int, values: dict[str, Any]) -> InvoiceSettings:
    found = settings_of(session, tenant_id)
    limits = {"company_name": 200, "address": 500, "fiscal_id": 40, "default_terms": 5000}
    for attr, limit in limits.items():
        if values.get(attr) is not None:
            setattr(found, attr, _check_text(values[attr], limit, _camel(attr)))
    session.flush()
    return found


@dataclass
class CompanyProfile:
    name: str
    address: str
    fiscal_id: str
    logo: bytes | None
    logo_mime: str | None
    email: str
    phone: str
    website: str


def company_profile(session: Session, tenant_id: int) -> CompanyProfile:
    """The invoices' company profile, falling back to the organisation's settings."""
    tenant = session.get_one(Tenant, tenant_id)
    own = session.get(InvoiceSettings, tenant_id) or InvoiceSettings(tenant_id=tenant_id)
    return CompanyProfile(
        name=own.company_name or tenant.legal_name or tenant.name,
        address=own.address or tenant.address,
        fiscal_id=own.fiscal_id or tenant.fiscal_id,
        logo=tenant.logo,
        logo_mime=tenant.logo_mime,
        email=tenant.email,
        phone=tenant.phone,
        website=tenant.website,
    )
