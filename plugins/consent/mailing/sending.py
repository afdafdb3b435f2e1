"""The send job (``consent.send_mailing``): one message per recipient over SMTP, as the
author, never twice to the same recipient.

A kernel job is one transaction, but mail handed to an SMTP server cannot be rolled back:
a retried attempt must know whom the failed one already reached. So this job *commits as
it goes* (:func:`checkpoint`): each recipient is claimed (``PENDING`` → ``SENDING``) and
committed before its message is sent, and marked ``SENT`` (or ``FAILED``) and committed
after. A later attempt sends only to recipients still ``PENDING``; one left ``SENDING``
(the attempt died between the two commits) is marked ``FAILED``/``UNCONFIRMED`` and not
sent again — at most once, never twice. Committing between messages also keeps the write
lock (SQLite) free while the SMTP server talks.

Recipients are decided again when the job runs, as the author: visibility, addresses and
module refusals (``crm_email_refusals``) as of the send, and the placeholders against the
author's field rules as of the send (a rule added since makes the job fail, nothing sent).
"""

from __future__ import annotations

import html
import logging
import smtplib
import socket
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select, update

from gateway.sdk import (
    CallerContext,
    Conflict,
    JobError,
    JobHandle,
    JobKind,
    JobResult,
    NotFound,
    TransientJobError,
    User,
    mail,
    printable,
    utcnow,
)
from plugins.consent.delivery import withdraw_url
from plugins.consent.mailing import placeholders, recipients
from plugins.consent.mailing.models import (
    Audience,
    Mailing,
    MailingRecipient,
    MailingStatus,
    RecipientStatus,
    SkipReason,
)
from plugins.consent.mailing.permissions import MailingPermission as P
from plugins.consent.mailing.services import SEND_JOB, sent_now

log = logging.getLogger("plugins.consent.mailing")

MAX_ATTEMPTS = 3
UNCONFIRMED = "an earlier attempt stopped while sending: not sent again, so as never to send twice"


def checkpoint(ctx: CallerContext) -> None:
    """Commit what the job did so far (see the module's docstring for why)."""
    ctx.session.commit()


class NotDelivered(Exception):
    """The server said no before taking the message: safe to try again later."""


class Uncertain(Exception):
    """The connection failed mid-way: the message may or may not have gone."""


def deliver(settings: Any, message: EmailMessage) -> str | None:
    """Send one message: ``None`` when accepted, the server's words when it refused it for
    good (5xx); raises :class:`NotDelivered` or :class:`Uncertain` for temporary trouble."""
    try:
        mail.send(settings, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise NotDelivered(str(exc.recipients)) from exc
        return "; ".join(f"{code} {_text(msg)}" for code, msg in exc.recipients.values())
    except smtplib.SMTPResponseException as exc:  # DATA, MAIL FROM, HELO, connect refused
        if 400 <= exc.smtp_code < 500 or isinstance(exc, smtplib.SMTPConnectError):
            raise NotDelivered(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise NotDelivered(str(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:  # dropped, timed out mid-way
        raise Uncertain(str(exc)) from exc
    return None


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return printable(text, one_line=True)[:300]


def compose(
    ctx: CallerContext, to: str, rendered: placeholders.Rendered, reply_to: str
) -> EmailMessage:
    """The plain-text message with its HTML alternative; replies go to the author."""
    settings = ctx.gateway.settings
    message = mail.compose(settings, to, rendered.subject, rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if reply_to and recipients.valid_address(reply_to):
        message["Reply-To"] = reply_to
    message["Message-ID"] = make_msgid(domain="crm.invalid")
    return message


def with_withdraw_link(
    ctx: CallerContext, rendered: placeholders.Rendered, contact_id: int
) -> placeholders.Rendered:
    """Every mail to a client who gave consent carries the link to withdraw it (GDPR Art.
    7(3): as easy as giving it), the consent module's own signed link."""
    link = withdraw_url(ctx.gateway, ctx.session, ctx.tenant_id, contact_id)
    if link is None:
        return rendered
    return replace(
        rendered,
        text=f"{rendered.text}\n\n--\nTo withdraw your consent to our emails: {link}\n",
        html=f'{rendered.html}<hr><p style="font-size:small">'
        f'<a href="{html.escape(link, quote=True)}">Withdraw your consent to our emails</a></p>',
    )


def _set(ctx: CallerContext, recipient_id: int, expected: RecipientStatus, **values: Any) -> bool:
    """Move one recipient from ``expected`` to ``values``; whether it was still there."""
    done = ctx.session.execute(
        update(MailingRecipient)
        .where(MailingRecipient.id == recipient_id, MailingRecipient.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def counts(ctx: CallerContext, mailing_id: int) -> dict[str, int]:
    rows = ctx.session.execute(
        select(MailingRecipient.status, func.count())
        .where(MailingRecipient.mailing_id == mailing_id)
        .group_by(MailingRecipient.status)
    )
    found = {status: int(n) for status, n in rows}
    return {s.value.lower(): found.get(s, 0) for s in RecipientStatus}


def run(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> JobResult:
    mailing = ctx.session.scalar(select(Mailing).where(Mailing.id == int(params["mailing_id"])))
    if mailing is None:
        raise NotFound("no such mailing", field="mailingId")
    # a job another runner took over may find INTERRUPTED written by the one it replaced
    if mailing.job_id != job.id or mailing.status in (MailingStatus.DRAFT, MailingStatus.SENT):
        raise Conflict("this mailing is not waiting for this job")
    mailing_id = mailing.id
    try:
        return _send(ctx, job, mailing)
    except TransientJobError:
        again = job.attempt < MAX_ATTEMPTS
        _stop(ctx, mailing_id, MailingStatus.QUEUED if again else MailingStatus.INTERRUPTED)
        raise
    except Exception:
        _stop(ctx, mailing_id, MailingStatus.INTERRUPTED)
        raise


def _stop(ctx: CallerContext, mailing_id: int, status: MailingStatus) -> None:
    """Record that the job stopped (the failing part of the work is rolled back first;
    what earlier checkpoints committed stays)."""
    try:
        ctx.session.rollback()
        ctx.session.execute(
            update(Mailing)
            .where(Mailing.id == mailing_id)
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        checkpoint(ctx)
    except Exception:  # the database itself failed: the job's own error says enough
        log.exception("could not mark mailing %s %s", mailing_id, status.value)
        ctx.session.rollback()


def _send(ctx: CallerContext, job: JobHandle, mailing: Mailing) -> JobResult:
    settings = ctx.gateway.settings
    if not settings.smtp_host:
        raise Conflict("email is not configured on this server (CRM_SMTP_HOST)")
    used = placeholders.check(ctx, mailing.audience, mailing.subject, mailing.body)
    author = ctx.session.scalar(select(User.email).where(User.id == ctx.user_id)) or ""
    mailing.status = MailingStatus.SENDING
    ctx.session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing.id,
            MailingRecipient.status == RecipientStatus.SENDING,
        )
        .values(status=RecipientStatus.FAILED, reason=SkipReason.UNCONFIRMED, detail=UNCONFIRMED)
        .execution_options(synchronize_session=False)
    )
    pending = list(
        ctx.session.scalars(
            select(MailingRecipient)
            .where(
                MailingRecipient.mailing_id == mailing.id,
                MailingRecipient.status == RecipientStatus.PENDING,
            )
            .order_by(MailingRecipient.position)
        )
    )
    given = [recipients.again(r.position, r.given, r.row, r.record_id) for r in pending]
    decided = recipients.decide(ctx, mailing.audience, given)
    sendable = []
    for row, item in zip(pending, decided, strict=True):
        if item.status is RecipientStatus.SKIPPED:
            row.status, row.reason, row.detail = item.status, item.reason, item.detail
        else:
            sendable.append((row.id, item))
    checkpoint(ctx)
    for done, (recipient_id, item) in enumerate(sendable):
        job.progress(done, len(sendable))
        _one(ctx, mailing, recipient_id, item, used, author)
    job.progress(len(sendable), len(sendable))
    sent_now(mailing)
    return JobResult(counts=counts(ctx, mailing.id), errors=not_sent(ctx, mailing.id))


def not_sent(ctx: CallerContext, mailing_id: int) -> list[JobError]:
    """Every recipient skipped or failed, with its reason, for the job's report (``row``
    is the recipient's position in the request; ``column`` where it was given)."""
    rows = ctx.session.scalars(
        select(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing_id,
            MailingRecipient.status.in_((RecipientStatus.SKIPPED, RecipientStatus.FAILED)),
        )
        .order_by(MailingRecipient.position)
    )
    return [
        JobError(
            code=r.reason.value if r.reason else r.status.value,
            message=f"{r.given}: {r.detail}" if r.detail else r.given,
            row=r.position,
            column="fileId" if r.row is not None else "recipientIds",
        )
        for r in rows
    ]


def _one(
    ctx: CallerContext,
    mailing: Mailing,
    recipient_id: int,
    item: recipients.Decided,
    used: list[placeholders.Placeholder],
    author: str,
) -> None:
    """Claim, send, record: each step committed."""
    if not _set(ctx, recipient_id, RecipientStatus.PENDING, status=RecipientStatus.SENDING):
        return  # decided by someone else meanwhile
    checkpoint(ctx)
    values = placeholders.values_of(item.record, used, item.address)
    rendered = placeholders.render(mailing.subject, mailing.body, values)
    if mailing.audience is Audience.CONTACTS:
        rendered = with_withdraw_link(ctx, rendered, item.record.id)
    try:
        refused = deliver(ctx.gateway.settings, compose(ctx, item.address, rendered, author))
    except NotDelivered as exc:
        _set(ctx, recipient_id, RecipientStatus.SENDING, status=RecipientStatus.PENDING)
        checkpoint(ctx)
        raise TransientJobError(f"the mail server is unavailable: {exc}") from exc
    except Uncertain as exc:
        _set(
            ctx,
            recipient_id,
            RecipientStatus.SENDING,
            status=RecipientStatus.FAILED,
            reason=SkipReason.UNCONFIRMED,
            detail=f"the connection failed while sending ({_text(str(exc))}); not sent again",
        )
        checkpoint(ctx)
        raise TransientJobError(f"the mail server connection failed: {exc}") from exc
    if refused is None:
        _set(
            ctx,
            recipient_id,
            RecipientStatus.SENDING,
            status=RecipientStatus.SENT,
            sent_at=utcnow(),
        )
    else:
        _set(
            ctx,
            recipient_id,
            RecipientStatus.SENDING,
            status=RecipientStatus.FAILED,
            reason=SkipReason.DELIVERY_FAILED,
            detail=f"the mail server refused it: {refused}",
        )
    checkpoint(ctx)


KINDS = [
    JobKind(
        SEND_JOB,
        run,
        title="Mass email",
        permission=P.SEND_MASS_EMAIL.value,
        max_attempts=MAX_ATTEMPTS,
        backoff_seconds=60.0,
    )
]
