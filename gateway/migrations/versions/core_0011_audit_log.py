"""the organisation audit log and the audit retention setting (issue 17 item 2)

Revision ID: core_0011
Revises: core_0010
Create Date: 2026-12-07 17:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'core_0011'
down_revision: str | Sequence[str] | None = 'core_0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_admin_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('client_address', sa.String(length=60), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_admin_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_admin_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_admin_events'))
    )
    op.create_index('ix_audit_admin_events_at', 'audit_admin_events', ['at'], unique=False)
    op.create_index('ix_audit_admin_events_tenant_id_id', 'audit_admin_events', ['tenant_id', 'id'], unique=False)
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('audit_retention_days', sa.Integer(), nullable=False, server_default='730')
        )


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('audit_retention_days')
    op.drop_index('ix_audit_admin_events_tenant_id_id', table_name='audit_admin_events')
    op.drop_index('ix_audit_admin_events_at', table_name='audit_admin_events')
    op.drop_table('audit_admin_events')
