"""Demo data: who may send mass email in the demo organisation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.sdk import DemoTenant, grant
from plugins.consent.mailing.permissions import MailingPermission as P

SENDERS = ("Director", "Sales manager", "Sales rep", "Back office")


def seed(session: Session, tenant: DemoTenant) -> None:
    for name in SENDERS:
        profile = tenant.profiles.get(name)
        if profile is not None:
            grant(session, profile, [P.SEND_MASS_EMAIL.value])
