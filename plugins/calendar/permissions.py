"""The calendar module's content permissions. Record permissions (``calendar.task.create``,
``…read``, ``…update``, ``…delete`` — the last is "who may delete a task", MISSION A6) are
generated for the access-controlled entity."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import Permission


class CalendarPermission(StrEnum):
    MANAGE_SETTINGS = "calendar.manage_settings"
    EXPORT = "calendar.export"


DESCRIPTIONS = {
    CalendarPermission.MANAGE_SETTINGS: "Manage task categories and the custom fields of cases.",
    CalendarPermission.EXPORT: "Export the tasks you may see to Excel.",
}

CATALOGUE = Permission.from_enum(CalendarPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
