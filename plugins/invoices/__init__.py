"""The invoices module (MISSION V1-V7, A6 billing): catalogues, invoices with exact totals,
gap-free numbering, PDF, Excel export and email. Only hook implementations live here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.sdk import (
    AccessControlledEntity,
    CallerContext,
    DashboardFigure,
    DashboardPeriods,
    Permission,
    PluginInfo,
    hookimpl,
)
from plugins.invoices import api, dashboard, demo, services, timeline
from plugins.invoices.models import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceLineTax,
    InvoiceSeries,
    InvoiceSettings,
    InvoiceTax,
)
from plugins.invoices.permissions import CATALOGUE
from plugins.invoices.types import InvoiceNode


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="invoices",
        title="Invoices",
        version="1.0.0",
        description="Invoices with legal numbering, exact totals, PDF, Excel and email.",
        requires=("contacts",),
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [
        InvoiceTax,
        InvoiceItem,
        InvoiceSeries,
        InvoiceSettings,
        Invoice,
        InvoiceLine,
        InvoiceLineTax,
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return CATALOGUE


@hookimpl
def crm_access_controlled() -> Sequence[AccessControlledEntity]:
    return [
        AccessControlledEntity(
            entity="invoice",
            model=Invoice,
            graphql_type="Invoice",
            graphql_factory=lambda record: InvoiceNode(record=record),
        )
    ]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [InvoiceNode]


@hookimpl
def crm_query_fields() -> list[Any]:
    return api.QUERY_FIELDS


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return api.MUTATION_FIELDS


@hookimpl(trylast=True)
def crm_demo_data(session: Any, tenant: Any) -> None:
    """After the contacts module's demo data (pluggy calls later plugins first), since the
    demo invoices bill demo contacts."""
    demo.seed(session, tenant)


@hookimpl
def crm_veto_delete(context: CallerContext, entity: str, record: Any) -> str | None:
    """Contacts that are the client or consignee of an invoice stay (legal records)."""
    if entity == "contact" and services.contact_has_invoices(context, record):
        return "the contact has invoices; delete its draft invoices first"
    return None


@hookimpl
def crm_merge_records(context: CallerContext, entity: str, kept: Any, merged: Any) -> None:
    if entity == "contact":
        services.move_contact_invoices(context, kept, merged)


@hookimpl
def crm_dashboard_figures(
    context: CallerContext, periods: DashboardPeriods
) -> Sequence[DashboardFigure]:
    return dashboard.figures(context, periods)


@hookimpl(optionalhook=True)
def crm_timeline_events(context: CallerContext, window: Any) -> Sequence[Any]:
    """The calendar module's hook (optional: a registry without calendar still starts)."""
    return timeline.events(context, window)
