"""The leads module: leads, opportunities, the pipeline and their dashboard figures
(MISSION L1-L5). Only hook implementations live here; see the sibling modules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.sdk import (
    AccessControlledEntity,
    AccessLevel,
    CallerContext,
    DashboardFigure,
    DashboardPeriods,
    Importer,
    Permission,
    PluginInfo,
    SheetTemplate,
    hookimpl,
)
from plugins.leads import api, dashboard, demo, services, templates, timeline, webforms
from plugins.leads.imports import LeadImporter
from plugins.leads.models import (
    Lead,
    Opportunity,
    OpportunityCustomField,
    OpportunityCustomValue,
    OpportunityStage,
    StageChange,
)
from plugins.leads.permissions import CATALOGUE
from plugins.leads.types import LeadNode, OpportunityNode


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="leads",
        title="Leads and opportunities",
        version="1.0.0",
        description="Unmanaged and own leads, conversion, opportunities and the pipeline.",
        requires=("contacts",),
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [
        Lead,
        OpportunityStage,
        Opportunity,
        StageChange,
        OpportunityCustomField,
        OpportunityCustomValue,
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return CATALOGUE


@hookimpl
def crm_access_controlled() -> Sequence[AccessControlledEntity]:
    return [
        # Unmanaged leads have no owner: everyone with lead read permission sees them.
        AccessControlledEntity(
            entity="lead",
            model=Lead,
            graphql_type="Lead",
            unowned_visible=True,
            graphql_factory=lambda record: LeadNode(record=record),
        ),
        AccessControlledEntity(
            entity="opportunity",
            model=Opportunity,
            graphql_type="Opportunity",
            # open to every user unless restricted (PRIVATE plus shares), as the seeds say;
            # an organisation changes it with setRecordAccessDefault
            default_access=AccessLevel.PUBLIC_WRITE,
            graphql_factory=lambda record: OpportunityNode(record=record),
        ),
    ]


@hookimpl
def crm_importers() -> Sequence[Importer]:
    return [LeadImporter()]


@hookimpl
def crm_sheet_templates() -> Sequence[SheetTemplate]:
    return templates.TEMPLATES


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [LeadNode, OpportunityNode]


@hookimpl
def crm_query_fields() -> list[Any]:
    return list(api.QUERY_FIELDS)


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return list(api.MUTATION_FIELDS)


@hookimpl
def crm_demo_data(session: Any, tenant: Any) -> None:
    demo.seed(session, tenant)


@hookimpl
def crm_dashboard_figures(
    context: CallerContext, periods: DashboardPeriods
) -> Sequence[DashboardFigure]:
    return dashboard.figures(context, periods)


@hookimpl
def crm_merge_records(context: CallerContext, entity: str, kept: Any, merged: Any) -> None:
    """Leads and opportunities of a merged contact follow it to the kept one."""
    if entity == "contact":
        services.move_contact_references(context, kept, merged)


@hookimpl
def crm_web_form_submission(
    context: CallerContext, target: str, form_name: str, owner_id: int, values: dict[str, str]
) -> Any | None:
    return webforms.submission(context, target, form_name, owner_id, values)


@hookimpl(optionalhook=True)
def crm_timeline_events(context: CallerContext, window: Any) -> Sequence[Any]:
    """The calendar module's hook (optional: a registry without calendar still starts)."""
    return timeline.events(context, window)
