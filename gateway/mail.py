"""Sending email over SMTP (stdlib smtplib), configured from the environment."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from gateway.config import Settings
from gateway.errors import Conflict


def compose(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
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
