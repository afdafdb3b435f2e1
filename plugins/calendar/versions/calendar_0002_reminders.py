"""calendar: task reminders (remind_at, reminded_at)

Revision ID: calendar_0002
Revises: calendar_0001
Create Date: 2026-11-30 01:15:00

Existing open tasks get their ``remind_at``; those whose reminder time has already passed
are marked reminded, so an upgrade does not send a burst of stale reminders.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "calendar_0002"
down_revision: str | Sequence[str] | None = "calendar_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tasks", sa.Column("remind_at", gateway.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "tasks", sa.Column("reminded_at", gateway.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_tasks_remind_at", "tasks", ["remind_at"], unique=False)
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Integer()),
        sa.column("deadline", gateway.db.UTCDateTime(timezone=True)),
        sa.column("reminder_minutes", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("remind_at", gateway.db.UTCDateTime(timezone=True)),
        sa.column("reminded_at", gateway.db.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows = bind.execute(
        sa.select(tasks.c.id, tasks.c.deadline, tasks.c.reminder_minutes).where(
            tasks.c.status == "OPEN", tasks.c.reminder_minutes.is_not(None)
        )
    ).all()
    for task_id, deadline, minutes in rows:
        remind_at = deadline - timedelta(minutes=minutes)
        bind.execute(
            sa.update(tasks)
            .where(tasks.c.id == task_id)
            .values(remind_at=remind_at, reminded_at=now if remind_at <= now else None)
        )


def downgrade() -> None:
    op.drop_index("ix_tasks_remind_at", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("reminded_at")
        batch.drop_column("remind_at")
