"""Tasks as an Excel workbook (``exportTasks``, the export path of issue 15's "done when"):
exactly the rows the caller may list (the list's filters and visibility, in SQL) and the
columns their field rules show — a column reading a hidden field is left out, as in the
contacts' and invoices' exports. Related records print only while the caller may see them
(the contact's name, the opportunity's title); cells are values, never formulas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.sdk import (
    AccessLevel,
    CallerContext,
    add_sheet,
    effective_rules,
    load_users,
    new_workbook,
    parse_field,
    to_bytes,
)
from plugins.calendar import opportunities
from plugins.calendar.models import Task
from plugins.calendar.services import category_list


@dataclass(frozen=True)
class Column:
    label: str
    #: The GraphQL fields it prints (``Task.x``, or qualified): hidden one → no column.
    reads: tuple[str, ...]
    value: Callable[[Task, Lookups], Any]


@dataclass
class Lookups:
    """What the rows refer to, loaded once for the whole file."""

    categories: dict[int, str]
    users: dict[int, str]
    ctx: CallerContext


def _contact(task: Task, _: Lookups) -> str:
    return task.contact.display_name if task.contact is not None else ""


def _opportunity(task: Task, lookups: Lookups) -> str:
    record = opportunities.record_of(lookups.ctx, task.opportunity_id)
    return str(getattr(record, "title", "")) if record is not None else ""


COLUMNS: Sequence[Column] = (
    Column("Title", ("title",), lambda t, _: t.title),
    Column("Description", ("description",), lambda t, _: t.description),
    Column("Category", ("category",), lambda t, x: x.categories.get(t.category_id or 0, "")),
    Column("Contact", ("contact", "Contact.displayName"), _contact),
    Column("Opportunity", ("opportunity", "Opportunity.title"), _opportunity),
    Column("Deadline (UTC)", ("deadline",), lambda t, _: t.deadline),
    Column("All day", ("allDay",), lambda t, _: "yes" if t.all_day else "no"),
    Column(
        "Reminder (minutes before)",
        ("reminderMinutes",),
        lambda t, _: t.reminder_minutes if t.reminder_minutes is not None else "never",
    ),
    Column(
        "Responsible",
        ("responsible", "User.email"),
        lambda t, x: x.users.get(t.owner_id or 0, ""),
    ),
    Column("Access", ("access",), lambda t, _: AccessLevel(t.access).value),
    Column("Status", ("status",), lambda t, _: t.status.value),
    Column("Completed at (UTC)", ("completedAt",), lambda t, _: t.completed_at or ""),
    Column("Created at (UTC)", ("createdAt",), lambda t, _: t.created_at),
)


def columns_for(ctx: CallerContext) -> list[Column]:
    """The columns whose every read field the caller's effective rules show."""
    rules = effective_rules(ctx.access)
    return [c for c in COLUMNS if not any(rules.hidden(parse_field(r, "Task")) for r in c.reads)]


def tasks_workbook(ctx: CallerContext, rows: Sequence[Task]) -> bytes:
    """Sheet "Tasks", one row per task. Categories, responsible users and opportunities are
    loaded once for the file (a statement each), never per row."""
    columns = columns_for(ctx)
    names = {c.label for c in columns}
    users: dict[int, str] = {}
    if "Responsible" in names:
        found = load_users(ctx, sorted({t.owner_id for t in rows if t.owner_id}))
        users = {uid: u.email for uid, u in found.items()}
    if "Opportunity" in names:
        opportunities.prime(ctx, {t.opportunity_id for t in rows})
    lookups = Lookups(
        categories={c.id: c.name for c in category_list(ctx)} if "Category" in names else {},
        users=users,
        ctx=ctx,
    )
    book = new_workbook()
    add_sheet(
        book,
        "Tasks",
        [c.label for c in columns],
        ([c.value(t, lookups) for c in columns] for t in rows),
    )
    return to_bytes(book)
