"""Mass email logic, free of GraphQL: preview, save a draft, queue its sending, and the
mailings a caller may see. Every function takes the caller context, so the job, the CLI
and GraphQL decide alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select, update

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    Conflict,
    Job,
    JobStatus,
    NotFound,
    check_text,
    defer_job,
    utcnow,
)
from plugins.consent.mailing import placeholders, recipients
from plugins.consent.mailing.models import (
    Audience,
    Mailing,
    MailingRecipient,
    MailingStatus,
    RecipientStatus,
)
from plugins.consent.mailing.permissions import MailingPermission as P

#: The send job's kind (``sending.py``).
SEND_JOB = "consent.send_mailing"
SUBJECT_MAX = 200
BODY_MAX = 20_000


@dataclass(frozen=True)
class Draft:
    """What the author composes."""

    audience: Audience
    subject: str
    body: str
    recipient_ids: Sequence[str] = ()
    file_id: str | None = None


@dataclass(frozen=True)
class Preview:
    """Who would be sent to and who skipped (and why), and the first recipient's email."""

    decided: list[recipients.Decided]
    sample: placeholders.Rendered | None


def _checked(ctx: CallerContext, draft: Draft) -> list[placeholders.Placeholder]:
    ctx.require(P.SEND_MASS_EMAIL.value)
    subject, body = draft.subject.strip(), draft.body
    if not subject:
        raise BadUserInput("the subject is empty", field="subject")
    if not body.strip():
        raise BadUserInput("the body is empty", field="body")
    check_text(subject, "subject", max_length=SUBJECT_MAX)
    check_text(body, "body", max_length=BODY_MAX, multiline=True)
    recipients.model_of(ctx, draft.audience)  # leads need the leads module
    return placeholders.check(ctx, draft.audience, subject, body)


def preview(ctx: CallerContext, draft: Draft) -> Preview:
    """The dry run: nothing is written."""
    used = _checked(ctx, draft)
    given = recipients.gather(ctx, draft.audience, draft.recipient_ids, draft.file_id)
    decided = recipients.decide(ctx, draft.audience, given)
    first = next((d for d in decided if d.status is RecipientStatus.PENDING), None)
    sample = None
    if first is not None:
        values = placeholders.values_of(first.record, used, first.address)
        sample = placeholders.render(draft.subject.strip(), draft.body, values)
    return Preview(decided, sample)


def create_mailing(ctx: CallerContext, draft: Draft) -> Mailing:
    """Save the mailing as a draft with each recipient's state as of now (call inside the
    caller's transaction); ``sendMailing`` decides again when it runs."""
    decided = preview(ctx, draft).decided
    mailing = Mailing(
        tenant_id=ctx.tenant_id,
        audience=draft.audience,
        subject=draft.subject.strip(),
        body=draft.body,
        status=MailingStatus.DRAFT,
        created_by_id=ctx.user_id,
    )
    mailing.recipients = [
        MailingRecipient(
            tenant_id=ctx.tenant_id,
            position=d.given.position,
            row=d.given.row,
            given=d.given.given,
            record_id=d.record_id,
            status=d.status,
            reason=d.reason,
            detail=d.detail,
        )
        for d in decided
    ]
    ctx.session.add(mailing)
    ctx.session.flush()
    return mailing


def visible_mailings(ctx: CallerContext) -> Select[Mailing]:
    """The caller's own mailings; every mailing of the tenant for administrators (the
    tenant itself is the session's criteria). A SQL predicate, never a filter after."""
    caller = ctx.require_caller()
    stmt = select(Mailing)
    if not caller.is_admin:
        stmt = stmt.where(Mailing.created_by_id == caller.user_id)
    return stmt


def get_mailing(ctx: CallerContext, mailing_id: int) -> Mailing:
    found = ctx.session.scalar(visible_mailings(ctx).where(Mailing.id == mailing_id))
    if found is None:
        raise NotFound("no such mailing", field="id")
    return found


def effective_status(stored: MailingStatus, job: JobStatus | None) -> MailingStatus:
    """A mailing QUEUED or SENDING whose job ended otherwise than by running it (cancelled
    while queued, refused when it started: the job never reached this module) is
    INTERRUPTED."""
    in_flight = stored in (MailingStatus.QUEUED, MailingStatus.SENDING)
    if in_flight and job in (None, JobStatus.FAILED, JobStatus.CANCELLED):
        return MailingStatus.INTERRUPTED
    return stored


def send_mailing(ctx: CallerContext, mailing_id: int) -> Mailing:
    """Queue the sending of a draft (or of what an interrupted send left pending) as a job,
    in the caller's transaction. Only its author sends it."""
    mailing = get_mailing(ctx, mailing_id)
    if mailing.created_by_id != ctx.user_id:
        raise NotFound("no such mailing", field="id")
    job_status = ctx.session.scalar(select(Job.status).where(Job.id == mailing.job_id))
    status = effective_status(mailing.status, job_status)
    if status not in (MailingStatus.DRAFT, MailingStatus.INTERRUPTED):
        raise Conflict(f"the mailing is already {status.value.lower()}", field="id")
    if not ctx.gateway.settings.smtp_host:
        raise Conflict("email is not configured on this server (CRM_SMTP_HOST)")
    _checked(ctx, Draft(mailing.audience, mailing.subject, mailing.body))
    job = defer_job(ctx, SEND_JOB, {"mailing_id": mailing.id})
    # Two sends of one draft at once: the second UPDATE finds the row changed (PostgreSQL
    # re-checks the WHERE after the first commits; SQLite serialises the writers), so one
    # job is queued; the other caller gets CONFLICT and its job is rolled back.
    queued = ctx.session.execute(
        update(Mailing)
        .where(
            Mailing.id == mailing.id,
            Mailing.status == mailing.status,
            Mailing.job_id.is_not_distinct_from(mailing.job_id),
        )
        .values(status=MailingStatus.QUEUED, job_id=job.id, sent_at=None)
        .execution_options(synchronize_session=False)
    )
    if not getattr(queued, "rowcount", 0):
        raise Conflict("the mailing is being sent already", field="id")
    ctx.session.refresh(mailing)
    return mailing


def sent_now(mailing: Mailing) -> None:
    mailing.status = MailingStatus.SENT
    mailing.sent_at = utcnow()
