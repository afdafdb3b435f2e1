"""calendar: tasks link to opportunities; "notify the responsible" notices (issue 15)

Revision ID: calendar_0003
Revises: calendar_0002
Create Date: 2026-12-07 16:20:00

The foreign key clears the link (SET NULL) when the opportunity is deleted, whatever
module state the tenant has: a dangling id could otherwise name a later opportunity that
reuses it (SQLite reuses the highest ids). ``notice_requested_at`` marks a task whose
responsible is to be told it is theirs (delivered by the ``calendar.notices`` kind).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "calendar_0003"
down_revision: str | Sequence[str] | None = "calendar_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "leads_0001"


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("opportunity_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "notice_requested_at", gateway.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.create_foreign_key(
            op.f("fk_tasks_opportunity_id_opportunities"),
            "opportunities",
            ["opportunity_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(
        "ix_tasks_notice_requested_at", "tasks", ["notice_requested_at"], unique=False
    )
    op.create_index(
        "ix_tasks_tenant_id_opportunity_id", "tasks", ["tenant_id", "opportunity_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_tenant_id_opportunity_id", table_name="tasks")
    op.drop_index("ix_tasks_notice_requested_at", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint(op.f("fk_tasks_opportunity_id_opportunities"), type_="foreignkey")
        batch.drop_column("notice_requested_at")
        batch.drop_column("opportunity_id")
