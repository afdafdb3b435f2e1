from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.sdk import AccessLevel, Base


class Note(Base):
    """An access-controlled test entity with a nested relation (parent / children)."""

    __tablename__ = "test_notes"
    __table_args__ = (
        Index("ix_test_notes_tenant_id_owner_id", "tenant_id", "owner_id"),
        Index("ix_test_notes_tenant_id_access", "tenant_id", "access"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000), default="")
    secret: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("test_notes.id", ondelete="SET NULL"))

    parent: Mapped[Note | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Note]] = relationship(back_populates="parent", order_by="Note.id")


class NoteAssignment(Base):
    """A user assigned to a note besides its owner (the engine's assignment grant, tested
    on a kernel-only entity)."""

    __tablename__ = "test_note_assignments"
    __table_args__ = (
        UniqueConstraint("note_id", "slot"),
        Index("ix_test_note_assignments_user_id_note_id", "user_id", "note_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(ForeignKey("test_notes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(40))
