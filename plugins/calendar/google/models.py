"""Google Calendar sync tables: one connection per user, the short-lived OAuth attempts,
and the link between a CRM task and the Google event that mirrors it in one connection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.sdk import Base, UTCDateTime, str_enum, utcnow


class ConnectionStatus(StrEnum):
    """CONNECTED syncs; BROKEN (Google refused the refresh token) waits for a reconnect."""

    CONNECTED = "CONNECTED"
    BROKEN = "BROKEN"


class Origin(StrEnum):
    """Which side created the pair: the deletion rules depend on it."""

    CRM = "CRM"
    GOOGLE = "GOOGLE"


class GoogleConnection(Base):
    """A user's Google account and calendar. The refresh token is encrypted with the
    server key (like TOTP secrets); the access token is never stored."""

    __tablename__ = "google_connections"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    #: The synced calendar (the account's primary one, whose id is its address).
    calendar_id: Mapped[str] = mapped_column(String(320))
    refresh_token: Mapped[str] = mapped_column(Text)
    status: Mapped[ConnectionStatus] = mapped_column(
        str_enum(ConnectionStatus), default=ConnectionStatus.CONNECTED
    )
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Google's ``nextSyncToken`` of the last pull; None: the next pull is a full one.
    sync_token: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the periodic kind queued a sync not yet done (no second one is queued meanwhile).
    sync_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoogleOAuthState(Base):
    """One authorisation attempt: the ``state`` nonce bound to the user and the PKCE
    ``code_verifier`` (encrypted), kept until the callback or ``STATE_TTL``."""

    __tablename__ = "google_oauth_states"
    __table_args__ = (UniqueConstraint("nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoogleEventLink(Base):
    """A task mirrored as a Google event in one connection. ``task_id`` NULL: the task was
    deleted (or left the user) in the CRM — a CRM-made event is then removed from Google;
    a Google-made one is left there and the link stays as a tombstone so later edits of
    it in Google do not come back as a new task."""

    __tablename__ = "google_event_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "event_id"),
        Index("ix_google_event_links_connection_id_task_id", "connection_id", "task_id"),
        Index("ix_google_event_links_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("google_connections.id", ondelete="CASCADE")
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    event_id: Mapped[str] = mapped_column(String(1024))
    origin: Mapped[Origin] = mapped_column(str_enum(Origin))
    #: The event's etag as last written or read: the precondition of the next write.
    etag: Mapped[str | None] = mapped_column(String(100))
    #: A digest of the task fields last written to (or read from) the event: a task whose
    #: digest differs has changes to push.
    digest: Mapped[str] = mapped_column(String(64), default="")
    #: The event's length in seconds (tasks have a deadline, events a start and an end).
    duration_seconds: Mapped[int] = mapped_column(default=1800)
    #: The event had attendees besides the user when last read: deleting it in Google then
    #: leaves the task (the user was not its only participant).
    shared: Mapped[bool] = mapped_column(default=False)
    #: The event was deleted in Google; a CRM-made task stays and is not pushed again.
    cancelled: Mapped[bool] = mapped_column(default=False)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
