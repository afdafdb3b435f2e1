"""The leads module's content permissions (record permissions are generated per entity)."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import Permission


class LeadsPermission(StrEnum):
    MANAGE_SETTINGS = "leads.manage_settings"


DESCRIPTIONS = {
    LeadsPermission.MANAGE_SETTINGS: "Manage opportunity stages and opportunity custom fields.",
}

CATALOGUE = Permission.from_enum(LeadsPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
