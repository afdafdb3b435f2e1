"""The calendar module: tasks with categories, calendar ranges and the task reassignment
contacts asks for (MISSION T1, parts of T2/T3, M8). Only hook implementations live here;
``docs/modules/calendar.md`` says what exists and what is to come."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from gateway.sdk import (
    AccessControlledEntity,
    CallerContext,
    DashboardFigure,
    DashboardPeriods,
    JobKind,
    Permission,
    PluginInfo,
    TypeField,
    hookimpl,
)
from plugins.calendar import api, demo, google, nested, reminders, services, views
from plugins.calendar.models import Task, TaskCategory
from plugins.calendar.permissions import CATALOGUE
from plugins.calendar.types import TaskCategoryType, TaskNode, TaskStatusCount


@hookimpl
def crm_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="calendar",
        title="Calendar and tasks",
        version="0.1.0",
        description="Tasks with deadlines, categories and reminders; calendar ranges.",
        requires=("contacts",),
        migrations=Path(__file__).parent / "versions",
    )


@hookimpl
def crm_models() -> Sequence[type[Any]]:
    return [TaskCategory, Task, *google.MODELS]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return CATALOGUE


@hookimpl
def crm_access_controlled() -> Sequence[AccessControlledEntity]:
    return [
        AccessControlledEntity(
            entity="task",
            model=Task,
            graphql_type="Task",
            graphql_factory=lambda record: TaskNode(record=record),
        )
    ]


@hookimpl
def crm_job_kinds() -> Sequence[JobKind]:
    return [*reminders.KINDS, *google.KINDS]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [TaskNode, TaskCategoryType, TaskStatusCount, *google.TYPES]


@hookimpl
def crm_query_fields() -> list[Any]:
    return [*api.QUERY_FIELDS, *google.QUERY_FIELDS]


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return [*api.MUTATION_FIELDS, *google.MUTATION_FIELDS]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return google.ROUTES


@hookimpl
def crm_type_fields() -> list[TypeField]:
    return list(nested.FIELDS)


@hookimpl
def crm_dashboard_figures(
    context: CallerContext, periods: DashboardPeriods
) -> Sequence[DashboardFigure]:
    return views.figures(context, periods)


@hookimpl
def crm_demo_data(session: Any, tenant: Any) -> None:
    demo.seed(session, tenant)


@hookimpl
def crm_count_tasks_to_reassign(
    context: CallerContext,
    company_id: int | None,
    from_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
) -> int:
    """The open tasks the move would move (same SQL). ``company_id`` is not used yet:
    tasks are not filed under a managing company."""
    return services.count_movable(context, from_user_id, contact_ids, starts_after, starts_before)


@hookimpl
def crm_reassign_tasks(
    context: CallerContext,
    company_id: int | None,
    from_user_id: int,
    to_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
) -> int:
    return services.move(
        context, from_user_id, to_user_id, contact_ids, starts_after, starts_before
    )
