"""the audit trail of access-controlled records (issue 17 item 2)

Revision ID: core_0010
Revises: core_0009
Create Date: 2026-12-07 16:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'core_0010'
down_revision: str | Sequence[str] | None = 'core_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_record_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=60), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_record_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_record_changes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_record_changes'))
    )
    op.create_index('ix_audit_record_changes_at', 'audit_record_changes', ['at'], unique=False)
    op.create_index('ix_audit_record_changes_record', 'audit_record_changes', ['tenant_id', 'entity', 'record_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_record_changes_record', table_name='audit_record_changes')
    op.drop_index('ix_audit_record_changes_at', table_name='audit_record_changes')
    op.drop_table('audit_record_changes')
