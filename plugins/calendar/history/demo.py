"""Demo data for the activity history: who may manage the categories and moderate, the
default categories, and a few interactions on the demo contacts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sdk import DemoTenant, grant, utcnow
from plugins.calendar.history.categories import seed as seed_categories
from plugins.calendar.history.models import HistoryKind, Interaction
from plugins.calendar.history.permissions import HistoryPermission as P
from plugins.contacts.models import ContactEmail

GRANTS = {
    "Director": [P.MANAGE_CATEGORIES.value, P.MODERATE.value],
    "Sales manager": [P.MANAGE_CATEGORIES.value],
}
#: (author, contact's email, kind, days ago, text)
INTERACTIONS = [
    (
        "rep1@demo.test",
        "info@iberialog.example",
        HistoryKind.CALL,
        9,
        "Asked for a quote on 40 pallets a month; call back next week.",
    ),
    (
        "rep1@demo.test",
        "lucia@iberialog.example",
        HistoryKind.MEETING,
        5,
        "Visited the Madrid warehouse with Lucía; she decides with the CFO.",
    ),
    ("rep1@demo.test", "info@iberialog.example", HistoryKind.EMAIL, 2, "Sent the revised offer."),
    (
        "rep2@demo.test",
        "sales@nordicparts.example",
        HistoryKind.NOTE,
        3,
        "Prefers email; invoices in SEK.",
    ),
]


def seed(session: Session, tenant: DemoTenant) -> None:
    for profile_name, permissions in GRANTS.items():
        profile = tenant.profiles.get(profile_name)
        if profile is not None:
            grant(session, profile, permissions)
    made = seed_categories(session, tenant.id)
    if not made or session.scalar(
        select(Interaction.id).where(Interaction.tenant_id == tenant.id).limit(1)
    ):
        return
    by_kind = {c.kind: c for c in made}
    rows = session.execute(
        select(ContactEmail.address, ContactEmail.contact_id).where(
            ContactEmail.tenant_id == tenant.id
        )
    )
    contacts = {address: contact_id for address, contact_id in rows}
    now = utcnow().replace(second=0, microsecond=0)
    for author, email, kind, days, text in INTERACTIONS:
        user, contact = tenant.users.get(author), contacts.get(email)
        if user is None or contact is None:
            continue
        session.add(
            Interaction(
                tenant_id=tenant.id,
                contact_id=contact,
                category_id=by_kind[kind].id,
                occurred_at=now - timedelta(days=days),
                author_id=user.id,
                text=text,
            )
        )
