"""The tasks list on the kernel's fast path (:mod:`gateway.shaping`): the task's plain
columns, its responsible user, category and contact joined. The case, the linked
opportunity and ``overdue`` (computed against the clock) take the general path.
tests/test_shaped_lists.py compares the shaped answers with the general path's."""

from __future__ import annotations

from gateway.sdk import shaping
from plugins.calendar.models import Task, TaskCategory
from plugins.contacts.shaped_list import CONTACT_TARGET

USER = shaping.USER
Contact = CONTACT_TARGET.model

CATEGORY = shaping.Entity(
    "TaskCategory",
    TaskCategory,
    {
        "id": shaping.node_id("TaskCategory", TaskCategory.id),
        "name": shaping.column(TaskCategory.name),
        "colour": shaping.column(TaskCategory.colour),
    },
)

TASK = shaping.Entity(
    "Task",
    Task,
    {
        "id": shaping.node_id("Task", Task.id),
        "title": shaping.column(Task.title),
        "description": shaping.column(Task.description),
        "deadline": shaping.column(Task.deadline),
        "allDay": shaping.column(Task.all_day),
        "reminderMinutes": shaping.column(Task.reminder_minutes),
        "access": shaping.access_level(Task.access),
        "status": shaping.column(Task.status),
        "completedAt": shaping.column(Task.completed_at),
        "createdAt": shaping.column(Task.created_at),
        "updatedAt": shaping.column(Task.updated_at),
    },
    {
        "responsible": shaping.ToOne(USER, lambda task, user: user.id == task.owner_id),
        "category": shaping.ToOne(CATEGORY, lambda task, category: category.id == task.category_id),
        "contact": shaping.ToOne(
            CONTACT_TARGET, lambda task, contact: contact.id == task.contact_id
        ),
    },
)
