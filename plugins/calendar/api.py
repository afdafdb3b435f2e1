"""The root fields the calendar module publishes, in schema order."""

from __future__ import annotations

from plugins.calendar.absences import absences
from plugins.calendar.cases import graphql as cases_graphql
from plugins.calendar.mutations import (
    complete_task,
    create_task,
    create_task_category,
    create_tasks,
    delete_task,
    update_task,
)
from plugins.calendar.queries import export_tasks, task, task_categories, task_counts, tasks

QUERY_FIELDS = [tasks, task_counts, task, task_categories]
QUERY_FIELDS += [export_tasks, absences]
MUTATION_FIELDS = [
    create_task,
    create_tasks,
    update_task,
    complete_task,
    delete_task,
    create_task_category,
]
QUERY_FIELDS += cases_graphql.QUERY_FIELDS
MUTATION_FIELDS += cases_graphql.MUTATION_FIELDS
