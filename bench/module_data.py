"""Leads, opportunities and invoices for the benchmark tenant (issue 19: every module's list
against its floor), added to an existing contacts dataset when it lacks them.

One of each per five contacts, owned by the reps round-robin (every tenth lead unmanaged:
no owner), 20 % ``PUBLIC_READ``; opportunities and invoices point at a contact of the
tenant (invoices at a company or person, visible or not to the caller); the profiles get the
modules' read permissions. Deterministic from the seed.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from gateway.access.services import grant
from gateway.contract import AccessLevel
from gateway.db import Database
from gateway.identity.models import Profile, User
from gateway.tenancy.models import Tenant
from plugins.contacts.models import Contact
from plugins.invoices.models import DueTerm, Invoice, InvoiceStatus
from plugins.leads.models import Lead, LeadStatus, Opportunity, OpportunityStage
from plugins.leads.services import seed_default_stages

MAIN = "bench"
READS = ["leads.lead.read", "leads.opportunity.read", "invoices.invoice.read"]
_BASE = datetime(2026, 2, 1, tzinfo=UTC)


def ensure_module_rows(url: str, seed: int) -> bool:
    """Add the module rows unless the benchmark tenant has them; whether it added them."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            tenant_id = conn.scalar(select(Tenant.id).where(Tenant.slug == MAIN))
            if tenant_id is None or conn.scalar(
                select(func.count()).select_from(Lead).where(Lead.tenant_id == tenant_id)
            ):
                return False
            reps = list(
                conn.scalars(
                    select(User.id)
                    .where(User.tenant_id == tenant_id, User.email.like("rep%"))
                    .order_by(User.id)
                )
            )
            contacts = list(
                conn.scalars(
                    select(Contact.id).where(Contact.tenant_id == tenant_id).order_by(Contact.id)
                )
            )
        with db.transaction() as session:
            for profile in session.scalars(select(Profile).where(Profile.tenant_id == tenant_id)):
                grant(session, profile, READS)
            seed_default_stages(session, tenant_id)
        with db.engine.connect() as conn:
            stages = list(
                conn.scalars(
                    select(OpportunityStage.id).where(OpportunityStage.tenant_id == tenant_id)
                )
            )
        rng = random.Random(f"{seed}-modules")
        n = len(contacts) // 5
        leads, opportunities, invoices = [], [], []
        for i in range(n):
            owner = reps[i % len(reps)]
            at = _BASE + timedelta(minutes=7 * i)
            access = AccessLevel.PUBLIC_READ if rng.random() < 0.2 else AccessLevel.PRIVATE
            unmanaged = i % 10 == 0
            leads.append(
                {
                    "tenant_id": tenant_id,
                    "name": f"Lead {i:05d}",
                    "company": f"Prospect {rng.randrange(1000)} Ltd",
                    "email": f"lead{i}@prospect.test",
                    "status": LeadStatus.UNMANAGED if unmanaged else LeadStatus.IN_PROGRESS,
                    "owner_id": None if unmanaged else owner,
                    "access": access.value,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            amount = Decimal(rng.randrange(100, 100_000)) / 4
            opportunities.append(
                {
                    "tenant_id": tenant_id,
                    "title": f"Deal {i:05d}",
                    "contact_id": rng.choice(contacts),
                    "amount": amount,
                    "stage_id": rng.choice(stages),
                    "owner_id": owner,
                    "access": access.value,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            issued = date(2026, 1, 1) + timedelta(days=i % 300)
            invoices.append(
                {
                    "tenant_id": tenant_id,
                    "status": InvoiceStatus.DRAFT,
                    "issue_date": issued,
                    "due_term": DueTerm.DAYS_30,
                    "due_date": issued + timedelta(days=30),
                    "contact_id": rng.choice(contacts),
                    "subtotal": amount,
                    "tax_total": Decimal(0),
                    "total": amount,
                    "owner_id": owner,
                    "access": access.value,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        with db.engine.begin() as conn:
            for model, rows in ((Lead, leads), (Opportunity, opportunities), (Invoice, invoices)):
                for start in range(0, len(rows), 2000):
                    conn.execute(insert(model), rows[start : start + 2000])
            conn.exec_driver_sql("ANALYZE")
        return True
    finally:
        db.dispose()
