"""The ``consent.send`` job: mail one request over SMTP, after the transaction that made it
committed (the job is deferred in it), once.

Once: the job first claims its request with ``UPDATE … SET status = 'SENT' WHERE status =
'QUEUED'`` — a second run of the same job (a retry after the first committed) claims
nothing and sends nothing. The claim, the nonce that signs the links and the ledger entry
commit together with the job; should SMTP accept the mail and the commit then fail (the
worker dies in between), the retry mails it again: at the SMTP boundary delivery is at
least once, as with any mailer.

A permanent refusal (5xx: unknown mailbox) marks the request ``BOUNCED``; no SMTP server
configured marks it ``FAILED``; a transient failure (connection, 4xx) is retried by the
job engine, and the last attempt marks it ``FAILED``.
"""

from __future__ import annotations

import html
import secrets
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from sqlalchemy import update

from gateway.sdk import (
    CallerContext,
    Conflict,
    Gateway,
    JobHandle,
    JobKind,
    TransientJobError,
    mail,
    printable,
    utcnow,
)
from plugins.consent import ledger, links
from plugins.consent.answers import latest_accepted, withdraw_expiry
from plugins.consent.models import Channel, ConsentRequest, LedgerEvent, RequestStatus
from plugins.consent.requests import SEND_KIND

MAX_ATTEMPTS = 3
BUTTON = (
    "display:inline-block;padding:10px 18px;margin:4px;border-radius:4px;"
    "color:#ffffff;text-decoration:none;font-weight:bold;background:{colour}"
)


def withdraw_url(
    gateway: Gateway,
    session: Any,
    tenant_id: int,
    contact_id: int | None,
    user_id: int | None = None,
) -> str | None:
    """A withdraw link for a client (or user) who has given consent, for every mail sent to
    them afterwards (GDPR Art. 7(3)); ``None`` when there is no consent to withdraw.
    Senders in this module (and the mass mailing) put it in their mails."""
    accepted = latest_accepted(session, tenant_id, contact_id, user_id)
    if accepted is None or accepted.nonce is None:
        return None
    expires = withdraw_expiry(utcnow())
    return links.url(
        gateway, links.token(gateway, links.WITHDRAW, accepted.id, expires, accepted.nonce)
    )


def compose(
    gateway: Gateway, request: ConsentRequest, answer_url: str, withdraw: str | None
) -> EmailMessage:
    """The request as text and HTML: the rendered body, the accept and deny buttons (a page
    that asks to confirm: a GET alone decides nothing), the image when there is one."""
    config = request.configuration
    company = request.company.name if request.company is not None else ""
    message = EmailMessage()
    message["From"] = formataddr(
        (printable(company or config.description, one_line=True), request.sender)
    )
    message["To"] = request.recipient
    message["Subject"] = printable(request.subject, one_line=True)
    message["Message-ID"] = make_msgid(domain="consent.crm")
    expires = request.expires_at.strftime("%Y-%m-%d") if request.expires_at else ""
    accept, deny = f"{answer_url}?answer=accept", f"{answer_url}?answer=deny"
    text = (
        f"{printable(request.body)}\n\n"
        f"Accept: {accept}\nDecline: {deny}\n\n"
        f"These links work until {expires}.\n"
    )
    if withdraw:
        text += f"\nTo withdraw a consent you gave earlier: {withdraw}\n"
    message.set_content(text)
    body = html.escape(printable(request.body)).replace("\n", "<br>\n")
    image_cid = make_msgid(domain="consent.crm") if config.image and config.image_mime else None
    image = f'<p><img src="cid:{image_cid[1:-1]}" alt=""></p>\n' if image_cid else ""
    withdraw_html = (
        f'<p style="font-size:small"><a href="{html.escape(withdraw)}">Withdraw a consent '
        "you gave earlier</a></p>\n"
        if withdraw
        else ""
    )
    page = (
        '<!doctype html><html><body style="font-family:sans-serif">\n'
        f"{image}<p>{body}</p>\n<p>"
        f'<a href="{html.escape(accept)}" style="{BUTTON.format(colour="#2e7d32")}">Accept</a>'
        f'<a href="{html.escape(deny)}" style="{BUTTON.format(colour="#c62828")}">Decline</a>'
        f'</p>\n<p style="font-size:small">These links work until {expires}.</p>\n'
        f"{withdraw_html}</body></html>"
    )
    message.add_alternative(page, subtype="html")
    if image_cid and config.image and config.image_mime:
        maintype, subtype = config.image_mime.split("/")
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(config.image, maintype, subtype, cid=image_cid)
    return message


def _close(
    ctx: CallerContext,
    request: ConsentRequest,
    status: RequestStatus,
    event: LedgerEvent,
    detail: str,
) -> None:
    request.status, request.pending_key = status, None
    ledger.append(ctx.session, request, event, Channel.EMAIL, detail=detail[:400])


def _permanent(exc: smtplib.SMTPException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def run(ctx: CallerContext, job: JobHandle, params: dict[str, Any]) -> dict[str, int]:
    session = ctx.session
    request_id = int(params["request"])
    now = utcnow()
    nonce = secrets.token_hex(16)
    claimed = session.execute(
        update(ConsentRequest)
        .where(ConsentRequest.id == request_id, ConsentRequest.status == RequestStatus.QUEUED)
        .values(status=RequestStatus.SENT, nonce=nonce, sent_at=now)
        .returning(ConsentRequest.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if claimed is None:
        return {"sent": 0}
    request = session.get(ConsentRequest, request_id, populate_existing=True)
    assert request is not None
    request.expires_at = now + timedelta(days=request.configuration.link_valid_days)
    gateway = ctx.gateway
    answer_url = links.url(
        gateway, links.token(gateway, links.ANSWER, request.id, request.expires_at, nonce)
    )
    withdraw = withdraw_url(
        gateway, session, request.tenant_id, request.contact_id, request.user_id
    )
    message = compose(gateway, request, answer_url, withdraw)
    try:
        mail.send(gateway.settings, message)
    except Conflict as exc:  # no SMTP server configured: nothing to retry
        _close(ctx, request, RequestStatus.FAILED, LedgerEvent.FAILED, exc.message)
        return {"failed": 1}
    except smtplib.SMTPException as exc:
        if _permanent(exc):
            _close(ctx, request, RequestStatus.BOUNCED, LedgerEvent.BOUNCED, str(exc))
            return {"bounced": 1}
        if job.attempt >= MAX_ATTEMPTS:
            _close(ctx, request, RequestStatus.FAILED, LedgerEvent.FAILED, str(exc))
            return {"failed": 1}
        raise TransientJobError(f"SMTP: {exc}") from exc
    except OSError as exc:
        if job.attempt >= MAX_ATTEMPTS:
            _close(ctx, request, RequestStatus.FAILED, LedgerEvent.FAILED, str(exc))
            return {"failed": 1}
        raise TransientJobError(f"SMTP: {exc}") from exc
    ledger.append(session, request, LedgerEvent.SENT, Channel.EMAIL, at=now)
    return {"sent": 1}


KINDS = [
    JobKind(
        SEND_KIND,
        run,
        title="Send a consent request",
        max_attempts=MAX_ATTEMPTS,
        backoff_seconds=30.0,
        quiet=True,  # one per client asked: its author hears only of failures
    )
]
