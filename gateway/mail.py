"""Sending email over SMTP (stdlib smtplib), configured from the environment."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING

from gateway.config import Settings
from gateway.errors import BadUserInput, Conflict
from gateway.text import printable

if TYPE_CHECKING:
    from gateway.context import CallerContext


def compose(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message. Subjects and bodies are often built from stored text (names,
    numbers, notes), which may hold characters mail cannot carry: they show as U+FFFD (line
    breaks in the subject become spaces) rather than failing the mail. A recipient is never
    rewritten: one that is not a single printable line is BAD_USER_INPUT on ``to``."""
    if printable(to, one_line=True) != to:
        raise BadUserInput("the recipient's address holds control characters", field="to")
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = printable(subject, one_line=True)
    message.set_content(printable(text))
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver one message; CONFLICT when the operator has not configured SMTP."""
    if not settings.smtp_host:
        raise Conflict("email is not configured on this server (CRM_SMTP_HOST)")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


def email_refusals(
    context: CallerContext, entity: str, record_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Why each of these recipients must not be emailed, by the tenant's enabled modules
    (``crm_email_refusals``): ``{record_id: ["consent: …", …]}``; absent ids may be emailed.
    Senders skip and report the refused ones, never drop them silently."""
    refused: dict[int, list[str]] = {}
    if not record_ids:
        return refused
    for module, answer in context.hooks.call_attributed(
        "crm_email_refusals", context=context, entity=entity, record_ids=list(record_ids)
    ):
        for record_id, reason in (answer or {}).items():
            refused.setdefault(record_id, []).append(f"{module}: {reason}")
    return refused
