"""Mass email tables: a composed mailing and one row per recipient with its own state.

The per-recipient state is what makes a retried send safe: a recipient is claimed
(``PENDING`` → ``SENDING``, committed) before its message goes to SMTP and marked ``SENT``
after, so a later attempt never sends to it again (``sending.py``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import Base, UTCDateTime, str_enum, utcnow

#: Most recipients one mailing may have (MISSION R3).
MAX_RECIPIENTS = 100


class Audience(StrEnum):
    """Whom a mailing goes to: clients (contacts) or leads (when the leads module is on)."""

    CONTACTS = "CONTACTS"
    LEADS = "LEADS"


class MailingStatus(StrEnum):
    """DRAFT until sent; QUEUED once ``sendMailing`` queued its job; SENDING while the job
    runs; SENT when every recipient is decided; INTERRUPTED when the job stopped (failed or
    cancelled) — sending again then sends only to recipients still pending."""

    DRAFT = "DRAFT"
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    INTERRUPTED = "INTERRUPTED"


class RecipientStatus(StrEnum):
    PENDING = "PENDING"
    #: Claimed by a send attempt: handed to SMTP or about to be.
    SENDING = "SENDING"
    SENT = "SENT"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class SkipReason(StrEnum):
    """Why a recipient was not sent to (``SKIPPED``) or not delivered (``FAILED``)."""

    #: No record of the audience you may see has this id or address.
    NOT_FOUND = "NOT_FOUND"
    #: The same recipient appears earlier in the list.
    DUPLICATE = "DUPLICATE"
    NO_EMAIL = "NO_EMAIL"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    #: A module refused it (``crm_email_refusals``: a GDPR block, no consent…).
    REFUSED = "REFUSED"
    #: The mail server refused the message for good.
    DELIVERY_FAILED = "DELIVERY_FAILED"
    #: An attempt stopped between claiming and confirming it: not sent again, so as never
    #: to send twice.
    UNCONFIRMED = "UNCONFIRMED"


class Mailing(Base):
    """One composed email (subject and body with ``[field]`` placeholders) to up to
    :data:`MAX_RECIPIENTS` recipients. Seen by its author and administrators."""

    __tablename__ = "consent_mailings"
    __table_args__ = (
        Index("ix_consent_mailings_tenant_id_created_by_id", "tenant_id", "created_by_id"),
        Index("ix_consent_mailings_tenant_id_created_at", "tenant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailingStatus] = mapped_column(
        str_enum(MailingStatus), default=MailingStatus.DRAFT
    )
    #: The latest send job (kernel ``jobs`` row; its progress and attempts).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipients: Mapped[list[MailingRecipient]] = relationship(
        cascade="all, delete-orphan", order_by="MailingRecipient.position"
    )


class MailingRecipient(Base):
    """One recipient as the author gave it (an id, or a file row) and what became of it."""

    __tablename__ = "consent_mailing_recipients"
    __table_args__ = (
        Index("ix_consent_mailing_recipients_mailing_id_status", "mailing_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    mailing_id: Mapped[int] = mapped_column(ForeignKey("consent_mailings.id", ondelete="CASCADE"))
    #: 1-based order in the request (ids first, then the file's rows).
    position: Mapped[int] = mapped_column()
    #: The file row it came from, if any.
    row: Mapped[int | None] = mapped_column()
    #: What the author gave: a global ID or an address from the file.
    given: Mapped[str] = mapped_column(String(254))
    #: The contact or lead (by the mailing's audience); no foreign key: either table.
    record_id: Mapped[int | None] = mapped_column()
    status: Mapped[RecipientStatus] = mapped_column(
        str_enum(RecipientStatus), default=RecipientStatus.PENDING
    )
    reason: Mapped[SkipReason | None] = mapped_column(str_enum(SkipReason))
    #: Words for the reason (a module's refusal, the mail server's answer).
    detail: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
