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
    AccessLevel,
    CallerContext,
    DashboardFigure,
    DashboardPeriods,
    JobKind,
    Permission,
    PluginInfo,
    TypeField,
    hookimpl,
)
from plugins.calendar import (
    api,
    demo,
    google,
    history,
    hookspecs,
    nested,
    notices,
    reminders,
    services,
    views,
)
from plugins.calendar.cases import demo as case_demo
from plugins.calendar.cases import download as case_download
from plugins.calendar.cases import nested as case_nested
from plugins.calendar.cases import service as case_service
from plugins.calendar.cases.models import (
    Case,
    CaseCustomField,
    CaseCustomValue,
    CaseDocument,
    CaseParticipant,
    CaseTag,
    CaseTagLink,
)
from plugins.calendar.cases.types import CaseNode
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
    return [
        TaskCategory,
        Task,
        *history.MODELS,
        Case,
        CaseParticipant,
        CaseTag,
        CaseTagLink,
        CaseDocument,
        CaseCustomField,
        CaseCustomValue,
        *google.MODELS,
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return [*CATALOGUE, *history.CATALOGUE]


@hookimpl
def crm_access_controlled() -> Sequence[AccessControlledEntity]:
    return [
        AccessControlledEntity(
            entity="task",
            model=Task,
            graphql_type="Task",
            graphql_factory=lambda record: TaskNode(record=record),
        ),
        # open to all by default (PUBLIC_WRITE); restricted = PRIVATE + shares
        AccessControlledEntity(
            entity="case",
            model=Case,
            graphql_type="Case",
            graphql_factory=lambda record: CaseNode(record=record),
            default_access=AccessLevel.PUBLIC_WRITE,
        ),
    ]


@hookimpl
def crm_job_kinds() -> Sequence[JobKind]:
    return [*reminders.KINDS, *notices.KINDS, *google.KINDS]


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [
        TaskNode,
        TaskCategoryType,
        TaskStatusCount,
        *history.GRAPHQL_TYPES,
        CaseNode,
        *google.TYPES,
    ]


@hookimpl
def crm_query_fields() -> list[Any]:
    return [*api.QUERY_FIELDS, *history.QUERY_FIELDS, *google.QUERY_FIELDS]


@hookimpl
def crm_mutation_fields() -> list[Any]:
    return [*api.MUTATION_FIELDS, *history.MUTATION_FIELDS, *google.MUTATION_FIELDS]


@hookimpl
def crm_type_fields() -> list[TypeField]:
    return [*nested.FIELDS, *history.NESTED_FIELDS, *case_nested.FIELDS]


@hookimpl
def crm_dashboard_figures(
    context: CallerContext, periods: DashboardPeriods
) -> Sequence[DashboardFigure]:
    return views.figures(context, periods)


@hookimpl
def crm_demo_data(session: Any, tenant: Any) -> None:
    demo.seed(session, tenant)
    history.demo.seed(session, tenant)
    case_demo.seed(session, tenant)


@hookimpl
def crm_add_hookspecs() -> Sequence[object]:
    return [hookspecs]


@hookimpl
def crm_http_routes() -> Sequence[BaseRoute]:
    return [*case_download.ROUTES, *google.ROUTES]


@hookimpl(specname="crm_merge_records")
def merge_case_participants(context: CallerContext, entity: str, kept: Any, merged: Any) -> None:
    """A merged contact's cases follow it to the kept one (named apart from the tasks'
    ``crm_merge_records``, so both live in this module)."""
    if entity == "contact":
        case_service.move_participants(context, kept.id, merged.id)


@hookimpl
def crm_count_tasks_to_reassign(
    context: CallerContext,
    company_id: int | None,
    from_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None,
) -> int:
    """The open tasks the move would move (same SQL). ``company_id`` is not used yet:
    tasks are not filed under a managing company."""
    return services.count_movable(
        context, from_user_id, contact_ids, starts_after, starts_before, task_ids
    )


@hookimpl
def crm_reassign_tasks(
    context: CallerContext,
    company_id: int | None,
    from_user_id: int,
    to_user_id: int,
    contact_ids: list[int] | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    task_ids: list[int] | None,
) -> int:
    return services.move(
        context, from_user_id, to_user_id, contact_ids, starts_after, starts_before, task_ids
    )


@hookimpl(specname="crm_merge_records")
def history_merge_records(context: CallerContext, entity: str, kept: Any, merged: Any) -> None:
    """Merged contacts: the history moves to the contact kept (its own hookimpl name, so
    the task module's answer to the same hook stays separate)."""
    if entity == "contact":
        history.service.move_history(context, kept, merged)
