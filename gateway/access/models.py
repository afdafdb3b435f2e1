"""Tables of access control: granted permissions, field rules, the hierarchy closure,
record shares and sharing rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, str_enum, utcnow


class FieldMode(StrEnum):
    HIDDEN = "hidden"
    READ_ONLY = "read_only"


class ProfilePermission(Base):
    """A permission code granted to a profile (administrators hold every code implicitly)."""

    __tablename__ = "profile_permissions"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(120), primary_key=True)


class ProfileFieldRule(Base):
    """``Type.field`` hidden from, or read-only for, a profile."""

    __tablename__ = "profile_field_rules"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    type_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    field_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    mode: Mapped[FieldMode] = mapped_column(str_enum(FieldMode))


class UserHierarchy(Base):
    """Closure of the reports-to relation: one row per (ancestor, descendant), self included.

    Indexed both ways, so "everyone below me" and "everyone above them" are index lookups
    whose cost follows the answer, not the number of users.
    """

    __tablename__ = "user_hierarchy"
    __table_args__ = (Index("ix_user_hierarchy_descendant_id", "descendant_id", "ancestor_id"),)

    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int]


class RecordShare(Base):
    """One record of an access-controlled entity shared with one user (read or write)."""

    __tablename__ = "record_shares"
    __table_args__ = (Index("ix_record_shares_entity_record_id", "entity", "record_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(60), primary_key=True)
    record_id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SharingRule(Base):
    """Records owned by ``owner_root``'s subtree are shared with a profile, a subtree or a
    user group (A8).

    Exactly one of ``grantee_profile_id`` / ``grantee_root_id`` / ``grantee_group_id`` is
    set. ``entity`` limits the rule to one entity; ``None`` means every access-controlled
    entity.
    """

    __tablename__ = "sharing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    entity: Mapped[str | None] = mapped_column(String(60))
    owner_root_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    grantee_profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE")
    )
    grantee_root_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    grantee_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE")
    )
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
