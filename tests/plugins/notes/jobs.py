"""Job kinds of the notes test module: a job that writes notes in one transaction, reports
progress, can wait on a flag file (to be cancelled or killed mid-way), fail on purpose or
fail transiently; a permission-guarded kind; and a periodic system kind."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from gateway import sdk
from tests.plugins.notes.models import Note


def write_notes(ctx: sdk.CallerContext, job: sdk.JobHandle, params: dict[str, Any]) -> Any:
    session = ctx.session
    visible = session.scalar(select(func.count()).select_from(Note)) or 0
    count = int(params.get("count", 3))
    for i in range(count):
        session.add(
            Note(tenant_id=ctx.tenant_id, owner_id=ctx.user_id, title=f"{params['prefix']} {i}")
        )
        session.flush()
        job.progress(i + 1, count)
        if i == count // 2 and params.get("wait_for"):
            Path(params["started_flag"]).write_text(str(os.getpid()))
            deadline = time.monotonic() + 30
            while not Path(params["wait_for"]).exists() and time.monotonic() < deadline:
                job.check_cancelled()
                time.sleep(0.05)
    if job.attempt <= int(params.get("transient", 0)):
        raise sdk.TransientJobError("the remote end timed out")
    if params.get("fail") == "typed":
        raise sdk.JobFailed("a row is wrong", [sdk.JobError("INVALID", "no title", 2, "title")])
    if params.get("fail") == "crash":
        raise RuntimeError("the database password is hunter2")
    return sdk.JobResult(counts={"visible": visible, "written": count})


def sweep(ctx: sdk.CallerContext, job: sdk.JobHandle, params: dict[str, Any]) -> Any:
    """Periodic, without a user: queue one per-user job for each tenant's first admin."""
    admins = ctx.session.scalars(
        select(sdk.User)
        .join(sdk.Profile, sdk.Profile.id == sdk.User.profile_id)
        .where(sdk.Profile.kind == sdk.ProfileKind.ADMINISTRATOR, sdk.User.is_active.is_(True))
        .order_by(sdk.User.id)
    ).all()
    seen: set[int] = set()
    for admin in admins:
        if admin.tenant_id not in seen:
            seen.add(admin.tenant_id)
            sdk.defer_job(ctx, "notes.write", {"count": 1, "prefix": "sweep"}, for_user=admin.id)
    return {"queued": len(seen)}


KINDS = [
    sdk.JobKind("notes.write", write_notes, title="Write notes", backoff_seconds=0),
    sdk.JobKind("notes.secret", write_notes, title="Secret notes", permission="notes.read_secret"),
    sdk.JobKind("notes.sweep", sweep, title="Sweep", schedule="*/5 * * * *"),
]


@strawberry.mutation
def start_note_job(
    info: Info,
    prefix: str = "job",
    count: int = 3,
    kind: str = "notes.write",
    wait_for: str | None = None,
    started_flag: str | None = None,
    fail: str | None = None,
    transient: int = 0,
) -> sdk.JobPayload:
    ctx = info.context
    ctx.require_caller()
    params = {
        "prefix": prefix,
        "count": count,
        "wait_for": wait_for,
        "started_flag": started_flag,
        "fail": fail,
        "transient": transient,
    }
    return sdk.mutate(
        ctx,
        sdk.JobPayload,
        lambda _session: sdk.defer_job(ctx, kind, params),
        lambda job: sdk.JobPayload(job=sdk.JobType(record=job)),
    )
