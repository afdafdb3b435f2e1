"""The invoices module's content permissions (MISSION A6 billing, V1, V5, V7)."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import Permission


class InvoicesPermission(StrEnum):
    BILL_ARTICLES = "invoices.bill_articles"
    BILL_SERVICES = "invoices.bill_services"
    BILL_OTHER = "invoices.bill_other"
    MANUAL_NUMBER = "invoices.manual_number"
    EXPORT = "invoices.export"
    SEND = "invoices.send"
    MANAGE_SETTINGS = "invoices.manage_settings"


DESCRIPTIONS = {
    InvoicesPermission.BILL_ARTICLES: "Put articles (products) of the catalogue on invoices.",
    InvoicesPermission.BILL_SERVICES: "Put services of the catalogue on invoices.",
    InvoicesPermission.BILL_OTHER: "Put 'other' concepts, neither articles nor services, on "
    "invoices.",
    InvoicesPermission.MANUAL_NUMBER: "Issue an invoice with a number typed by hand instead "
    "of the next one of its series.",
    InvoicesPermission.EXPORT: "Export invoices to Excel.",
    InvoicesPermission.SEND: "Send invoices to clients by email.",
    InvoicesPermission.MANAGE_SETTINGS: "Manage the products and services, taxes, numbering "
    "series, company profile and default payment terms of invoices.",
}

CATALOGUE = Permission.from_enum(InvoicesPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
