"""Retention: each organisation keeps its audit trail and log ``audit_retention_days``
(30 to 3650, default two years); a daily system job deletes what is older."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.audit.models import AdminEvent, RecordChangeLog
from gateway.context import CallerContext
from gateway.contract import JobKind
from gateway.db import utcnow
from gateway.jobs.handle import JobHandle
from gateway.tenancy.models import Tenant


def purge_expired(session: Session) -> int:
    """Delete every tenant's entries older than its retention; the number deleted."""
    deleted = 0
    now = utcnow()
    for tenant_id, days in session.execute(select(Tenant.id, Tenant.audit_retention_days)):
        cutoff = now - timedelta(days=days)
        for model in (RecordChangeLog, AdminEvent):
            result = session.execute(
                delete(model)
                .where(model.tenant_id == tenant_id, model.at < cutoff)
                .execution_options(synchronize_session=False)
            )
            deleted += result.rowcount or 0  # type: ignore[attr-defined]
    return deleted


def _purge(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> dict[str, int]:
    return {"deleted": purge_expired(ctx.session)}


KINDS = [
    JobKind(
        "core.purge_audit",
        _purge,
        title="Delete audit entries past retention",
        schedule="41 3 * * *",
    )
]
