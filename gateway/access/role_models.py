"""Tables of roles (job positions, "cargos", MISSION A7) and user groups (A11).

Roles form their own tree, apart from profiles (what a user may do) and from the reporting
line (who a user reports to); an organisation may make record visibility follow it
(``Tenant.record_visibility``). Groups gather users so module permissions can be granted to
chosen users beyond their profiles.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime, utcnow


class Role(Base):
    """A job position of an organisation ("CEO", "Sales manager"); at most one per user."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    #: The role directly above in the roles tree.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id", ondelete="SET NULL"))
    #: Seeded with the organisation (CEO, Manager): they cannot be deleted.
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleHierarchy(Base):
    """Closure of the roles tree: one row per (ancestor, descendant), self included (depth 0),
    indexed both ways like ``UserHierarchy``."""

    __tablename__ = "role_hierarchy"
    __table_args__ = (Index("ix_role_hierarchy_descendant_id", "descendant_id", "ancestor_id"),)

    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int]


class UserGroup(Base):
    """A named group of users of an organisation, to grant permissions beyond profiles."""

    __tablename__ = "user_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Base):
    """A user in a group; indexed by user, as the caller's facts look groups up that way."""

    __tablename__ = "group_members"
    __table_args__ = (Index("ix_group_members_user_id", "user_id", "group_id"),)

    group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class GroupPermission(Base):
    """A module permission (``contacts.contact.read``…) granted to every member of a group."""

    __tablename__ = "group_permissions"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(120), primary_key=True)
