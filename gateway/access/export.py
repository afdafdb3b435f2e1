"""Export of the profiles repository to Excel (MISSION A1)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.access import services
from gateway.excel import add_sheet, new_workbook, to_bytes
from gateway.identity.models import ProfileKind, User
from gateway.plugins import PluginRegistry


def profiles_workbook(session: Session, registry: PluginRegistry, tenant_id: int) -> bytes:
    """Three sheets: profiles (kind, parent, users), the permission matrix, field rules."""
    profiles = services.profiles(session, tenant_id)
    by_id = {p.id: p for p in profiles}
    perms, rules = services.profile_grants(session, list(by_id))
    holders = dict(
        session.execute(
            select(User.profile_id, func.count(User.id))
            .where(User.tenant_id == tenant_id)
            .group_by(User.profile_id)
        ).all()
    )
    workbook = new_workbook()
    add_sheet(
        workbook,
        "Profiles",
        ["Profile", "Kind", "Depends on", "Built-in", "Users", "Permissions"],
        [
            [
                p.name,
                p.kind.value,
                by_id[p.parent_id].name if p.parent_id in by_id else "",
                "yes" if p.builtin else "no",
                holders.get(p.id, 0),
                "all" if p.kind is ProfileKind.ADMINISTRATOR else len(perms[p.id]),
            ]
            for p in profiles
        ],
    )
    held = {pid: set(codes) for pid, codes in perms.items()}
    add_sheet(
        workbook,
        "Permissions",
        ["Permission", "Description", *[p.name for p in profiles]],
        [
            [
                code,
                perm.description,
                *[
                    "yes" if p.kind is ProfileKind.ADMINISTRATOR or code in held[p.id] else ""
                    for p in profiles
                ],
            ]
            for code, perm in sorted(registry.permissions.items())
        ],
    )
    add_sheet(
        workbook,
        "Field rules",
        ["Profile", "Type", "Field", "Rule"],
        [
            [by_id[pid].name, t, f, mode.value]
            for pid, items in rules.items()
            for t, f, mode in items
        ],
    )
    return to_bytes(workbook)
