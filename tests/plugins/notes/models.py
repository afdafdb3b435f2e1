from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.contract import AccessLevel
from gateway.db import Base


class Note(Base):
    __tablename__ = "test_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    access: Mapped[str] = mapped_column(String(20), default=AccessLevel.PRIVATE.value)
    title: Mapped[str] = mapped_column(String(200))
