from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.sdk import Base


class AuditEntry(Base):
    __tablename__ = "test_audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
