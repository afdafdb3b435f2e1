"""The sync as jobs: a periodic kind queues, every few minutes, one sync per connected user,
run as that user (their visibility and rights). Quiet: a sync tells its user only when it
fails or the connection breaks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from gateway.sdk import (
    CallerContext,
    GatewayError,
    JobHandle,
    JobKind,
    Tenant,
    defer_job,
    enabled_modules,
    utcnow,
)
from plugins.calendar.google.models import ConnectionStatus, GoogleConnection
from plugins.calendar.google.sync import run_sync

SYNC = "calendar.google_sync"
#: A sync queued this long ago and not done (its worker died) no longer blocks a new one.
STALE = timedelta(hours=1)


def connection_of(ctx: CallerContext, lock: bool = False) -> GoogleConnection | None:
    """The caller's connection; ``lock``: row-locked until the transaction ends."""
    caller = ctx.require_caller()
    stmt = select(GoogleConnection).where(GoogleConnection.user_id == caller.user_id)
    return ctx.session.scalars(stmt.with_for_update() if lock else stmt).first()


def run_one(ctx: CallerContext, job: JobHandle, _params: dict[str, Any]) -> dict[str, int]:
    """Sync the user's connection (as of the job's time). The connection row is locked:
    two syncs of one user (a click and a tick, on two workers) run one after the other,
    the second seeing what the first linked."""
    connection = connection_of(ctx, lock=True)
    if connection is None:
        return {"skipped_unconnected": 1}
    connection.sync_queued_at = None
    return run_sync(ctx, connection, job.scheduled_for or utcnow())


def run_all(ctx: CallerContext, job: JobHandle, _params: dict[str, Any]) -> dict[str, int]:
    """The periodic kind (system session): queue a sync for each connected user whose
    organisation has the calendar on and who has none waiting."""
    now = job.scheduled_for or utcnow()
    session = ctx.session
    gateway = ctx.gateway
    calendar_on = {
        tenant_id
        for tenant_id in session.scalars(select(Tenant.id))
        if "calendar" in enabled_modules(session, gateway.registry, tenant_id)
    }
    queued = 0
    waiting = GoogleConnection.sync_queued_at
    for connection in session.scalars(
        select(GoogleConnection).where(
            GoogleConnection.status == ConnectionStatus.CONNECTED,
            waiting.is_(None) | (waiting < now - STALE),
        )
    ):
        if connection.tenant_id not in calendar_on:
            continue
        try:
            with session.begin_nested():
                defer_job(ctx, SYNC, {}, for_user=connection.user_id)
                connection.sync_queued_at = now
        except GatewayError:
            continue  # the user was deactivated: nothing to sync for them
        queued += 1
    return {"queued": queued}


KINDS = [
    JobKind(
        SYNC,
        run_one,
        title="Google Calendar sync",
        max_attempts=5,
        backoff_seconds=30.0,
        quiet=True,
    ),
    JobKind(
        "calendar.google_sync_all", run_all, title="Google Calendar sync", schedule="*/5 * * * *"
    ),
]
