"""Demo data for the calendar module: task permissions for the demo profiles, the default
categories and a few tasks (owned by users the reassignment tests leave alone)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import AccessLevel, DemoTenant, grant, utcnow
from plugins.calendar.models import Task, TaskStatus
from plugins.calendar.services import seed_categories

CRUD = ["create", "read", "update"]
GRANTS: dict[str, list[str]] = {
    "Director": [*CRUD, "delete"],
    "Sales manager": [*CRUD, "delete"],
    "Sales rep": [*CRUD, "delete"],
    "Sales assistant": CRUD,
    "Back office": CRUD,  # structural: changes every task, deletes none
}
#: Profiles that may export the tasks they see (as they may export contacts).
EXPORTERS = ("Director", "Sales manager", "Sales rep", "Back office")
#: (responsible, title, days from now, access)
TASKS = [
    ("manager@demo.test", "Call back about the cold-chain offer", 1, AccessLevel.PRIVATE),
    ("manager@demo.test", "Prepare the quarterly review", 7, AccessLevel.PUBLIC_READ),
    ("director@demo.test", "Visit the Lisbon office", 14, AccessLevel.PRIVATE),
    ("director@demo.test", "Sign the framework agreement", -2, AccessLevel.PRIVATE),
]


def seed(session: Session, tenant: DemoTenant) -> None:
    for profile_name, actions in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(session, profile, [f"calendar.task.{a}" for a in actions])
            if profile_name in ("Director", "Sales manager"):
                grant(session, profile, ["calendar.manage_settings"])
            if profile_name in EXPORTERS:
                grant(session, profile, ["calendar.export"])
    categories = seed_categories(session, tenant.id)
    if session.scalar(select(Task.id).where(Task.tenant_id == tenant.id).limit(1)):
        return
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    for i, (email, title, days, access) in enumerate(TASKS):
        owner = tenant.users.get(email)
        if owner is None:
            continue
        session.add(
            Task(
                tenant_id=tenant.id,
                title=title,
                description="",
                category_id=categories[i % len(categories)].id if categories else None,
                deadline=now + timedelta(days=days),
                all_day=False,
                reminder_minutes=1440,
                owner_id=owner.id,
                created_by_id=owner.id,
                access=access.value,
                status=TaskStatus.OPEN,
            )
        )
