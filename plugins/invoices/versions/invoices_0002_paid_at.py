"""invoices: paid_at (when an invoice was marked paid; the contact timeline reads it)

Revision ID: invoices_0002
Revises: invoices_0001
Create Date: 2026-12-07 16:50:00

Invoices already PAID get their last change time: the best the table knows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "invoices_0002"
down_revision: str | Sequence[str] | None = "invoices_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "invoices", sa.Column("paid_at", gateway.db.UTCDateTime(timezone=True), nullable=True)
    )
    invoices = sa.table(
        "invoices",
        sa.column("status", sa.String()),
        sa.column("updated_at", gateway.db.UTCDateTime(timezone=True)),
        sa.column("paid_at", gateway.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        sa.update(invoices)
        .where(invoices.c.status == "PAID")
        .values(paid_at=invoices.c.updated_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("paid_at")
