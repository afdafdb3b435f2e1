"""Profiles, users, the reporting hierarchy, assistant links and sign-in sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, UTCDateTime, str_enum, utcnow


class ProfileKind(StrEnum):
    """How far a profile's record visibility reaches (docs/access.md)."""

    ADMINISTRATOR = "administrator"
    STRUCTURAL = "structural"
    HIERARCHICAL = "hierarchical"
    ASSISTANT = "assistant"


ADMINISTRATOR_PROFILE = "Administrator"
STANDARD_PROFILE = "Standard"


class Profile(Base):
    __tablename__ = "profiles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ProfileKind] = mapped_column(str_enum(ProfileKind))
    #: The profile this one "depends on" in the profiles tree.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    #: Built-in profiles (Administrator, Standard) cannot be deleted or renamed.
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_tenant_id_manager_id", "tenant_id", "manager_id"),
        Index("ix_users_role_id", "role_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: Stored lower-case; unique across tenants because sign-in is by email alone.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id"))
    #: Reports-to: the user directly above in the hierarchy.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The user's role (job position, MISSION A7), apart from the profile; at most one.
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: TOTP secret, encrypted with the server key; set once enrolment is confirmed.
    totp_secret: Mapped[str | None] = mapped_column(String(400))
    #: Secret of an enrolment not yet confirmed (encrypted).
    totp_pending_secret: Mapped[str | None] = mapped_column(String(400))
    #: The last accepted TOTP time step: a code is accepted once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: Personal settings (MISSION I3); language and time zone default to the organisation's.
    language: Mapped[str | None] = mapped_column(String(20))
    timezone: Mapped[str | None] = mapped_column(String(60))
    email_signature: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_mime: Mapped[str | None] = mapped_column(String(20))

    profile: Mapped[Profile] = relationship(lazy="joined")

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None


class AssistantLink(Base):
    """An assistant serves a user: sees that user's records, owns none (MISSION A4)."""

    __tablename__ = "assistant_links"

    assistant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    served_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AuthSession(Base):
    """A signed-in session. Only the SHA-256 of its bearer token is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str] = mapped_column(String(300), default="")


class RecoveryCode(Base):
    """A single-use two-factor recovery code; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginChallenge(Base):
    """The short-lived second step of a sign-in with two-factor authentication."""

    __tablename__ = "login_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)


class AuthThrottle(Base):
    """Failed sign-in attempts per key (an account or a client address), across workers."""

    __tablename__ = "auth_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    """An invitation to join a tenant with a profile, by email or as a shareable link."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    #: Set for email invitations; ``None`` for links (the invitee gives an email).
    email: Mapped[str | None] = mapped_column(String(254))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    #: HMAC-SHA256 of the token under the server key: the database alone cannot forge one.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
