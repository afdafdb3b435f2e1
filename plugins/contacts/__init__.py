"""The contacts module: persons and companies under full access control (MISSION C1-C5,
C7, C8, A6). Only hook implementations live here; see the sibling modules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from gateway.sdk import (
    AccessControlledEntity,
    AssignmentGrant,
    CallerContext,
    DashboardFigure,
    DashboardPeriods,
    Importer,
    JobKind,
    Permission,
    PluginInfo,
    SheetTemplate,
    hookimpl,
)
from plugins.contacts import (
    api,
    assignments,
    dashboard,
    demo,
    hookspecs,
    reassign,
    templates,
    webforms,
    zones,
)
from plugins.contacts.imports import ContactImporter
from plugins.contacts.models import (
    Contact,
    ContactAssignment,
    ContactEmail,
    ContactPhone,
    ContactTagLink,
    ContactType,
    CustomField,
    CustomValue,
    Tag,
    TagGrant,
)
from plugins.contacts.permissions import CATALOGUE
from plugins.contacts.shaped_list import CONTACT
from plugins.contacts.types import ContactNode
from plugins.contacts.webforms import WebForm


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="contacts",
        title="Contacts",
        version="1.0.0",
        description="Persons and companies, tags, custom fields, search, export.",
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_add_hookspecs() -> Sequence[object]:
    return [hookspecs]


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [
        ContactType,
        Tag,
        TagGrant,
        CustomField,
        Contact,
        ContactEmail,
        ContactPhone,
        ContactTagLink,
        CustomValue,
        WebForm,
        ContactAssignment,
        zones.Zone,
        zones.ZoneUser,
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return CATALOGUE


@hookimpl
def crm_access_controlled() -> Sequence[AccessControlledEntity]:
    return [
        AccessControlledEntity(
            entity="contact",
            model=Contact,
            graphql_type="Contact",
            graphql_factory=lambda record: ContactNode(record=record),
            shaped=CONTACT,
            # each user assigned per managing company sees and changes it like its manager
            assignments=AssignmentGrant(
                ContactAssignment, "contact_id", describe=assignments.describe
            ),
        )
    ]


@hookimpl
def crm_importers() -> Sequence[Importer]:
    return [ContactImporter()]


@hookimpl
def crm_job_kinds() -> Sequence[JobKind]:
    return [*reassign.KINDS, *zones.KINDS]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [ContactNode]


@hookimpl
def crm_query_fields() -> list[Any]:
    return [*api.QUERY_FIELDS, *webforms.QUERY_FIELDS, *zones.QUERY_FIELDS]


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return [*api.MUTATION_FIELDS, *webforms.MUTATION_FIELDS, *zones.MUTATION_FIELDS]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return webforms.ROUTES


@hookimpl
def crm_demo_data(session: Any, tenant: Any) -> None:
    demo.seed(session, tenant)


@hookimpl
def crm_dashboard_figures(
    context: CallerContext, periods: DashboardPeriods
) -> Sequence[DashboardFigure]:
    return dashboard.figures(context, periods)


@hookimpl
def crm_sheet_templates() -> Sequence[SheetTemplate]:
    return [*templates.TEMPLATES, zones.ZONES]
