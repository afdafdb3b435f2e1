from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
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
