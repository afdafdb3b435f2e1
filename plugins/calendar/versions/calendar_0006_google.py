"""calendar: Google Calendar sync (connections, OAuth attempts, task/event links)

Revision ID: calendar_0006
Revises: calendar_0005
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "calendar_0006"
down_revision: str | Sequence[str] | None = "calendar_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "google_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("calendar_id", sa.String(length=320), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("CONNECTED", "BROKEN", name="connectionstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("last_synced_at", gateway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sync_queued_at", gateway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("connected_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_google_connections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_google_connections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_google_connections")),
        sa.UniqueConstraint("user_id", name=op.f("uq_google_connections_user_id")),
    )
    op.create_table(
        "google_oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("created_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_google_oauth_states_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_google_oauth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_google_oauth_states")),
        sa.UniqueConstraint("nonce", name=op.f("uq_google_oauth_states_nonce")),
    )
    op.create_table(
        "google_event_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=1024), nullable=False),
        sa.Column(
            "origin",
            sa.Enum("CRM", "GOOGLE", name="origin", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("etag", sa.String(length=100), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("synced_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["google_connections.id"],
            name=op.f("fk_google_event_links_connection_id_google_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_google_event_links_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_google_event_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_google_event_links")),
        sa.UniqueConstraint(
            "connection_id", "event_id", name=op.f("uq_google_event_links_connection_id_event_id")
        ),
    )
    op.create_index(
        "ix_google_event_links_connection_id_task_id",
        "google_event_links",
        ["connection_id", "task_id"],
        unique=False,
    )
    op.create_index(
        "ix_google_event_links_task_id", "google_event_links", ["task_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_google_event_links_task_id", table_name="google_event_links")
    op.drop_index("ix_google_event_links_connection_id_task_id", table_name="google_event_links")
    op.drop_table("google_event_links")
    op.drop_table("google_oauth_states")
    op.drop_table("google_connections")
