"""Kernel GraphQL fields of jobs: ``job``, ``jobs`` (the caller's own; administrators and
``core.jobs.view_all`` see the organisation's) and ``cancelJob``."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from gateway.core.types import UserType, load_users
from gateway.errors import GatewayError, NotFound
from gateway.files.graphql import FileType
from gateway.files.services import open_file
from gateway.graphql.common import UserError, global_id, parse_global_id
from gateway.graphql.connection import Connection
from gateway.graphql.context import RequestContext
from gateway.imports.graphql import ImportRunType, visible_runs
from gateway.imports.models import ImportRun
from gateway.jobs import service
from gateway.jobs.handle import LIVE
from gateway.jobs.models import Job, JobStatus
from gateway.lists import Order, Window, list_records

Ctx = Info[RequestContext, None]

strawberry.enum(JobStatus, name="JobStatus")
JobStatusEnum: TypeAlias = JobStatus


@strawberry.type(description="How far a job got: done of total units (total unknown: null).")
class JobProgress:
    done: int
    total: int | None


@strawberry.type(description="One count of a job's result, e.g. imported = 950.")
class JobCount:
    name: str
    value: int


@strawberry.type(description="Why a job failed, or a row it refused (row and column).")
class JobError:
    code: str
    message: str
    row: int | None = None
    column: str | None = None


@strawberry.type(
    name="Job",
    description="A background job you (or, for administrators, "
    "someone in your organisation) started.",
)
class JobType:
    record: strawberry.Private[Job]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Job", self.record.id)

    @strawberry.field(description="What it does, e.g. contacts.import.")
    def kind(self) -> str:
        return self.record.kind

    @strawberry.field
    def status(self) -> JobStatusEnum:
        return self.record.status

    @strawberry.field
    def progress(self) -> JobProgress:
        live = LIVE.get(self.record.id) if self.record.status == JobStatus.RUNNING else None
        if live is not None:
            return JobProgress(done=live.done, total=live.total)
        return JobProgress(done=self.record.progress_done, total=self.record.progress_total)

    @strawberry.field(description="The counts of its result (empty until it succeeds).")
    def result_counts(self) -> list[JobCount]:
        counts = (self.record.result or {}).get("counts") or {}
        return [JobCount(name=k, value=int(v)) for k, v in counts.items()]

    @strawberry.field
    def errors(self) -> list[JobError]:
        return [
            JobError(
                code=e.get("code", ""),
                message=e.get("message", ""),
                row=e.get("row"),
                column=e.get("column"),
            )
            for e in self.record.errors or []
        ]

    @strawberry.field(description="Runs so far (retries of transient failures included).")
    def attempts(self) -> int:
        return self.record.attempts

    @strawberry.field
    def max_attempts(self) -> int:
        return self.record.max_attempts

    @strawberry.field
    def cancel_requested(self) -> bool:
        live = LIVE.get(self.record.id)
        return self.record.cancel_requested or (live is not None and live.cancel.is_set())

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def started_at(self) -> datetime | None:
        return self.record.started_at

    @strawberry.field
    def finished_at(self) -> datetime | None:
        return self.record.finished_at

    @strawberry.field(description="Who started it (it runs with their access).")
    def started_by(self, info: Ctx) -> UserType | None:
        user_id = self.record.user_id
        found = load_users(info.context, [user_id]).get(user_id) if user_id else None
        return UserType(record=found) if found else None

    @strawberry.field(
        description="The file it produced (e.g. an import's results), for the user who started "
        "it, while the file is kept."
    )
    def result_file(self, info: Ctx) -> FileType | None:
        file_id = self.record.result_file_id
        if file_id is None:
            return None
        try:
            return FileType(record=open_file(info.context, file_id))
        except NotFound:
            return None

    @strawberry.field(description="The report of the import this job ran, if it ran one.")
    def import_run(self, info: Ctx) -> ImportRunType | None:
        found = info.context.session.scalar(
            visible_runs(info).where(ImportRun.job_id == self.record.id)
        )
        return ImportRunType(record=found) if found is not None else None


@strawberry.type
class JobPayload:
    job: JobType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.field(description="One of your jobs (administrators: any of the organisation's).")
def job(info: Ctx, id: strawberry.ID) -> JobType | None:
    ctx = info.context
    ctx.require_caller()
    pk = parse_global_id(id, "Job")
    found = ctx.session.scalars(service.visible_jobs(ctx).where(Job.id == pk)).first()
    return JobType(record=found) if found is not None else None


@strawberry.field(
    description="Your jobs, newest first (administrators and holders of "
    "core.jobs.view_all: the organisation's)."
)
def jobs(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: list[JobStatusEnum] | None = None,
) -> Connection[JobType]:
    ctx = info.context
    ctx.require_caller()
    stmt = service.visible_jobs(ctx)
    if status:
        stmt = stmt.where(Job.status.in_([JobStatus(s) for s in status]))
    listed = list_records(
        ctx,
        Job,
        "Job",
        stmt,
        order=Order(Job.id, descending=True),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
    )
    load_users(ctx, sorted({j.user_id for j in listed.rows if j.user_id}))
    return Connection.of(listed, lambda r: JobType(record=r))


@strawberry.mutation(
    description="Cancel a job: a queued one at once, a running one at its "
    "next progress report (everything it wrote is rolled back)."
)
def cancel_job(info: Ctx, id: strawberry.ID) -> JobPayload:
    ctx = info.context
    ctx.require_caller()
    try:
        found = service.cancel_job(ctx, parse_global_id(id, "Job"))
    except GatewayError as exc:
        return JobPayload(errors=[UserError.from_exception(exc)])
    return JobPayload(job=JobType(record=found))


QUERY_FIELDS = [job, jobs]
MUTATION_FIELDS = [cancel_job]
