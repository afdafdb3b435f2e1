"""Consent tables: configurations (K1), requests with their state (K2, K3), GDPR blocks (K4)
and the append-only proof ledger (K6).

None of these is an access-controlled entity of its own: every read joins the client
(``contacts``), so the client's visibility predicate decides who sees its consent data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import Base, Conflict, ManagingCompany, UTCDateTime, str_enum, utcnow
from plugins.contacts.models import Contact


class Audience(StrEnum):
    """Who a configuration asks: clients (client, supplier, partner) or users (employees)."""

    CLIENT = "CLIENT"
    USER = "USER"


class Trigger(StrEnum):
    """When a configuration sends its request (MISSION K1)."""

    #: The client is created or modified.
    CLIENT_SAVED = "CLIENT_SAVED"
    #: An interaction (activity log entry) is recorded for the client.
    INTERACTION_LOGGED = "INTERACTION_LOGGED"
    #: A task linked to the client is created or edited.
    TASK_SAVED = "TASK_SAVED"
    #: A user (employee) is created or modified: the trigger of ``USER`` configurations.
    USER_SAVED = "USER_SAVED"


#: The triggers each audience may use.
AUDIENCE_TRIGGERS = {
    Audience.CLIENT: {Trigger.CLIENT_SAVED, Trigger.INTERACTION_LOGGED, Trigger.TASK_SAVED},
    Audience.USER: {Trigger.USER_SAVED},
}


class RequestStatus(StrEnum):
    QUEUED = "QUEUED"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"
    BOUNCED = "BOUNCED"
    FAILED = "FAILED"
    WITHDRAWN = "WITHDRAWN"


#: States in which a request still waits for its answer (it holds its ``pending_key``).
OPEN = (RequestStatus.QUEUED, RequestStatus.SENT)


class LedgerEvent(StrEnum):
    REQUESTED = "REQUESTED"
    SENT = "SENT"
    BOUNCED = "BOUNCED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    ACCEPTED = "ACCEPTED"
    DENIED = "DENIED"
    WITHDRAWN = "WITHDRAWN"
    UNBLOCK_REQUESTED = "UNBLOCK_REQUESTED"
    BLOCK_LIFTED = "BLOCK_LIFTED"


class Channel(StrEnum):
    """How a ledger event came about."""

    EMAIL = "EMAIL"  # the module's mail (a request delivered, bounced…)
    LINK = "LINK"  # the recipient's answer through a signed link
    API = "API"  # a user of the CRM (resend, unblock)
    SYSTEM = "SYSTEM"  # a trigger or a time-out


class ConsentConfiguration(Base):
    """When to ask whom for consent, and the email that asks (MISSION K1, K2)."""

    __tablename__ = "consent_configurations"
    __table_args__ = (UniqueConstraint("tenant_id", "description"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    #: Client categories (contacts' ``Category`` values); several.
    applies_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Client kinds (contacts' ``ClientKind`` values); empty means every kind.
    client_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``Trigger`` values.
    triggers: Mapped[list[str]] = mapped_column(JSON, default=list)
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    image_mime: Mapped[str | None] = mapped_column(String(20))
    link_valid_days: Mapped[int] = mapped_column(default=30)
    #: Raised whenever the sender, subject, body or image change: the ledger names it.
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    company_links: Mapped[list[ConfigurationCompany]] = relationship(
        cascade="all, delete-orphan", order_by="ConfigurationCompany.company_id", lazy="selectin"
    )

    @property
    def company_ids(self) -> list[int]:
        return [link.company_id for link in self.company_links]


class ConfigurationCompany(Base):
    """A managing company that sends a configuration's requests (none: the organisation)."""

    __tablename__ = "consent_configuration_companies"

    configuration_id: Mapped[int] = mapped_column(
        ForeignKey("consent_configurations.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("managing_companies.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))


class ConsentRequest(Base):
    """One request sent (or to send) to one client — or, for a ``USER`` configuration, one
    user (employee) — for one configuration and company: exactly one of ``contact_id`` and
    ``user_id`` is set.

    ``pending_key`` is ``"{configuration}:{contact}:{company or 0}"`` (``u{user}`` for a
    user) while the request is open (queued or sent) and NULL afterwards: the unique key
    makes a second request for the same configuration, person and company impossible while
    one waits — however many triggers fire, in however many workers."""

    __tablename__ = "consent_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "pending_key"),
        Index("ix_consent_requests_tenant_id_contact_id", "tenant_id", "contact_id", "id"),
        Index("ix_consent_requests_tenant_id_user_id", "tenant_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    configuration_id: Mapped[int] = mapped_column(
        ForeignKey("consent_configurations.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("managing_companies.id", ondelete="SET NULL")
    )
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus))
    pending_key: Mapped[str | None] = mapped_column(String(60))
    #: What fired it: a ``Trigger`` value, ``RESEND`` or ``UNBLOCK``.
    reason: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(254))
    sender: Mapped[str] = mapped_column(String(254))
    #: The exact text shown, rendered when the request was made (the proof, K6).
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int]
    #: Part of every link's signature; a new one makes older links of the request void.
    nonce: Mapped[str | None] = mapped_column(String(32))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    configuration: Mapped[ConsentConfiguration] = relationship(lazy="joined")
    company: Mapped[ManagingCompany | None] = relationship(lazy="joined")

    def shown_status(self, now: datetime) -> RequestStatus:
        """A sent request whose links ran out reads as expired before anyone records it."""
        if (
            self.status is RequestStatus.SENT
            and self.expires_at is not None
            and self.expires_at <= now
        ):
            return RequestStatus.EXPIRED
        return self.status


class ConsentBlock(Base):
    """A client blocked for email because they denied or withdrew consent (K4). Lifted only
    by the client's acceptance of a later request."""

    __tablename__ = "consent_blocks"
    __table_args__ = (UniqueConstraint("tenant_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    #: ``DENIED`` or ``WITHDRAWN``.
    reason: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="SET NULL")
    )
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: Read only through a join on the client (its visibility), never lazily.
    contact: Mapped[Contact] = relationship(lazy="raise", viewonly=True)


class LedgerEntry(Base):
    """One fact of the proof of consent (K6): who was asked, when, by which configuration,
    the text's version and hash, the answer, channel, IP address and user agent.

    Append-only: the ORM refuses to change or delete an entry (below) and the API offers no
    path to either. Entries go with their client when the client is erased."""

    __tablename__ = "consent_ledger"
    __table_args__ = (
        Index("ix_consent_ledger_tenant_id_contact_id", "tenant_id", "contact_id", "id"),
        Index("ix_consent_ledger_tenant_id_user_id", "tenant_id", "user_id", "id"),
        Index("ix_consent_ledger_tenant_id_at", "tenant_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    #: The client asked, or (``USER`` configurations) the user: one of the two.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[LedgerEvent] = mapped_column(str_enum(LedgerEvent))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    #: Copied, not referenced: the proof outlives renamed configurations and companies.
    configuration_id: Mapped[int | None] = mapped_column()
    configuration: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    recipient: Mapped[str] = mapped_column(String(254), default="")
    template_version: Mapped[int | None] = mapped_column()
    text_sha256: Mapped[str] = mapped_column(String(64), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    detail: Mapped[str] = mapped_column(String(400), default="")


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
def _append_only(_mapper: Any, _connection: Any, _target: LedgerEntry) -> None:
    raise Conflict("consent ledger entries cannot be changed or deleted")


MODELS: list[type[Any]] = [
    ConsentConfiguration,
    ConfigurationCompany,
    ConsentRequest,
    ConsentBlock,
    LedgerEntry,
]
