"""What modules and the GraphQL fields call: queue a job, see jobs, cancel one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update

from gateway.context import CallerContext
from gateway.db import utcnow
from gateway.errors import BadUserInput, Conflict, Forbidden, ModuleDisabled, NotFound
from gateway.identity.models import User
from gateway.jobs.handle import LIVE
from gateway.jobs.models import FINISHED, Job, JobStatus
from gateway.jobs.queue import enqueue
from gateway.tenancy.services import enabled_modules

#: Kernel permission: see every job of the organisation (administrators always do).
VIEW_ALL = "core.jobs.view_all"


def defer_job(
    ctx: CallerContext,
    kind: str,
    params: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    *,
    for_user: int | None = None,
) -> Job:
    """Queue a job of ``kind`` to run as the caller, in the caller's transaction: it exists
    (and an engine will run it) only if that transaction commits.

    A periodic system job has no caller: it names the user a job is for with ``for_user``
    (e.g. one reminder job per user). Refused: an unknown kind (``BAD_USER_INPUT``), a
    kind whose module is off (``MODULE_DISABLED``), a missing permission (``FORBIDDEN``),
    params that are not a JSON object.
    """
    registry = ctx.gateway.registry
    found = registry.job_kinds.get(kind)
    if found is None:
        raise BadUserInput(f"unknown job kind {kind!r}", field="kind")
    module = registry.job_kind_module[kind]
    session = ctx.session
    if ctx.caller is not None:
        if for_user not in (None, ctx.caller.user_id):
            raise Forbidden("a user starts jobs for themselves only")
        user_id, tenant_id, modules = ctx.caller.user_id, ctx.caller.tenant_id, ctx.enabled_modules
        if found.permission is not None:
            ctx.require(found.permission)
    else:
        if for_user is None:
            raise BadUserInput("a job queued without a caller needs for_user", field="for_user")
        user = session.get(User, for_user)
        if user is None or not user.is_active:
            raise NotFound("no such active user", field="for_user")
        user_id, tenant_id = user.id, user.tenant_id
        modules = enabled_modules(session, registry, tenant_id)
    if module not in modules:
        raise ModuleDisabled(f"the module {module!r} is switched off", module=module)
    try:
        params = json.loads(json.dumps(params if params is not None else {}, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise BadUserInput("job parameters must be JSON", field="params") from exc
    if not isinstance(params, dict):
        raise BadUserInput("job parameters must be a JSON object", field="params")
    job = Job(
        tenant_id=tenant_id,
        user_id=user_id,
        kind=kind,
        params=params,
        status=JobStatus.QUEUED,
        max_attempts=found.max_attempts,
        run_after=run_at or utcnow(),
        errors=[],
    )
    session.add(job)
    session.flush()
    enqueue(session, job.id, run_at)
    return job


def visible_jobs(ctx: CallerContext) -> Select[Job]:
    """The caller's own jobs; every job of the tenant for administrators and holders of
    ``core.jobs.view_all``. A SQL predicate, never a filter after the fetch."""
    caller = ctx.require_caller()
    stmt = select(Job).where(Job.tenant_id == caller.tenant_id)
    if not (caller.is_admin or ctx.has(VIEW_ALL)):
        stmt = stmt.where(Job.user_id == caller.user_id)
    return stmt


def get_job(ctx: CallerContext, job_id: int) -> Job:
    stmt = visible_jobs(ctx).where(Job.id == job_id).execution_options(populate_existing=True)
    found = ctx.session.scalars(stmt).first()
    if found is None:
        raise NotFound("no such job", field="id")
    return found


def cancel_job(ctx: CallerContext, job_id: int) -> Job:
    """Cancel a job: a queued one at once; a running one at its next ``progress`` (its work
    rolls back). Its starter or an administrator may; a finished job is ``CONFLICT``.

    On SQLite a running job holds the write lock, so a job running in this process is
    cancelled through memory, looked up by a read context (a write would wait for it)."""
    caller = ctx.require_caller()
    reader = CallerContext(
        gateway=ctx.gateway, caller=caller, enabled_modules=ctx.enabled_modules, facts=ctx.facts
    )
    try:
        job = get_job(reader, job_id)
        if job.user_id != caller.user_id and not caller.is_admin:
            raise Forbidden("only its starter or an administrator may cancel a job")
        if job.status in FINISHED:
            raise Conflict(f"the job has already {job.status.value}")
        live = LIVE.get(job_id)
        if live is not None and job.status == JobStatus.RUNNING:
            live.cancel.set()
            return job
    finally:
        reader.close()
    with ctx.transaction() as session:
        now = utcnow()
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        return get_job(ctx, job_id)
