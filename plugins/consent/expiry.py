"""Expiry of consent requests: a sent request whose links ran out becomes ``EXPIRED`` and the
ledger says so, exactly once.

The periodic kind ``consent.expire`` (every five minutes, for the whole installation) does
it for every organisation with the module on; the paths that meet a stale request first (a
trigger asking the client again, a resend, an answer through an expired link) do it for
that client at once. Both claim with one conditional ``UPDATE … WHERE status = 'SENT' AND
expires_at <= now … RETURNING``: whoever comes second — another worker's tick, a trigger
racing the job — re-checks the condition and claims nothing, so each request gets one
``EXPIRED`` entry (as the calendar's notices are claimed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from gateway.sdk import (
    CallerContext,
    Gateway,
    JobHandle,
    JobKind,
    Tenant,
    enabled_modules,
    utcnow,
)
from plugins.consent import ledger
from plugins.consent.models import Channel, ConsentRequest, LedgerEvent, RequestStatus

KIND = "consent.expire"
#: Most requests one claim takes; the rest wait for the next tick.
BATCH = 500


def expire(session: Session, now: datetime, *where: ColumnElement[bool]) -> int:
    """Claim up to ``BATCH`` sent requests past their expiry (narrowed by ``where``), mark
    them expired (their pending keys freed) and append one ledger entry each. Returns how
    many were claimed."""
    due = (
        ConsentRequest.status == RequestStatus.SENT,
        ConsentRequest.expires_at <= now,
        *where,
    )
    batch = select(ConsentRequest.id).where(*due).order_by(ConsentRequest.id).limit(BATCH)
    claimed = list(
        session.scalars(
            update(ConsentRequest)
            .where(ConsentRequest.id.in_(batch), *due)
            .values(status=RequestStatus.EXPIRED, pending_key=None)
            .returning(ConsentRequest.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        return 0
    for request in session.scalars(
        select(ConsentRequest)
        .where(ConsentRequest.id.in_(claimed))
        .order_by(ConsentRequest.id)
        .execution_options(populate_existing=True)
    ):
        ledger.append(
            session, request, LedgerEvent.EXPIRED, Channel.SYSTEM, at=now, detail="links expired"
        )
    session.flush()
    return len(claimed)


def _tenants_without_consent(gateway: Gateway, session: Session) -> list[int]:
    return [
        tenant_id
        for tenant_id in session.scalars(select(Tenant.id))
        if "consent" not in enabled_modules(session, gateway.registry, tenant_id)
    ]


def run(ctx: CallerContext, job: JobHandle, _params: dict[str, Any]) -> dict[str, int]:
    """The periodic kind (a system session: every organisation, the module's own check)."""
    now = job.scheduled_for or utcnow()  # the tick: a late worker acts as of it
    skip = _tenants_without_consent(ctx.gateway, ctx.session)
    where = (ConsentRequest.tenant_id.not_in(skip),) if skip else ()
    total = 0
    while (claimed := expire(ctx.session, now, *where)) > 0:
        total += claimed
        if claimed < BATCH:
            break
    return {"expired": total}


KINDS = [
    JobKind(
        KIND,
        run,
        title="Record expired consent requests",
        schedule="*/5 * * * *",
        quiet=True,
    )
]
