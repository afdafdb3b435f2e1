"""In-app notifications: modules tell a user something happened (e.g. "you now manage this
contact"); the user reads them with the ``notifications`` query."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from strawberry.types import Info

from gateway.db import Base, UTCDateTime, utcnow
from gateway.graphql.common import global_id, page_size, parse_global_id


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    #: The record concerned, as a global ID (opaque to the kernel).
    subject_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def notify(
    session: Session,
    *,
    tenant_id: int,
    user_id: int,
    kind: str,
    title: str,
    subject_id: str | None = None,
) -> None:
    session.add(
        Notification(
            tenant_id=tenant_id,
            user_id=user_id,
            kind=kind,
            title=title[:200],
            subject_id=subject_id,
        )
    )


@strawberry.type(name="Notification")
class NotificationType:
    record: strawberry.Private[Notification]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("Notification", self.record.id)

    @strawberry.field
    def kind(self) -> str:
        return self.record.kind

    @strawberry.field
    def title(self) -> str:
        return self.record.title

    @strawberry.field(description="Global ID of the record concerned, if any.")
    def subject_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.record.subject_id) if self.record.subject_id else None

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def read(self) -> bool:
        return self.record.read_at is not None


@strawberry.field(description="Your notifications, newest first.")
def notifications(
    info: Info, unread_only: bool = False, first: int | None = None
) -> list[NotificationType]:
    ctx = info.context
    caller = ctx.require_caller()
    stmt = select(Notification).where(Notification.user_id == caller.user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.id.desc()).limit(page_size(first, ctx.gateway.settings))
    return [NotificationType(record=n) for n in ctx.session.scalars(stmt)]


@strawberry.mutation(description="Mark some (or, with no ids, all) of your notifications read.")
def mark_notifications_read(info: Info, ids: list[strawberry.ID] | None = None) -> int:
    ctx = info.context
    caller = ctx.require_caller()
    with ctx.transaction() as session:
        stmt = (
            update(Notification)
            .where(Notification.user_id == caller.user_id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if ids is not None:
            stmt = stmt.where(
                Notification.id.in_([parse_global_id(i, "Notification", "ids") for i in ids])
            )
        return session.execute(stmt).rowcount or 0
