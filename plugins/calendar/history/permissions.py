"""Content permissions of the activity history (the calendar module's catalogue adds them)."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import Permission


class HistoryPermission(StrEnum):
    MANAGE_CATEGORIES = "calendar.manage_history_categories"
    MODERATE = "calendar.moderate_history"


DESCRIPTIONS = {
    HistoryPermission.MANAGE_CATEGORIES: "Manage the categories of history events.",
    HistoryPermission.MODERATE: "Change or delete interactions other users logged "
    "(on contacts you can see).",
}

CATALOGUE = Permission.from_enum(HistoryPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
