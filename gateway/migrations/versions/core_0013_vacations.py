"""vacation policies per profile and vacation requests (issue 17 item 7, MISSION A12)

Revision ID: core_0013
Revises: core_0012
Create Date: 2026-12-07 19:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'core_0013'
down_revision: str | Sequence[str] | None = 'core_0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('vacation_policies',
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('levels', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_vacation_policies_approver_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_vacation_policies_profile_id_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_vacation_policies_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('profile_id', name=op.f('pk_vacation_policies'))
    )
    op.create_table('vacation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', name='vacationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('approver_ids', sa.JSON(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('awaiting_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.String(length=1000), nullable=False),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['awaiting_id'], ['users.id'], name=op.f('fk_vacation_requests_awaiting_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_vacation_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_vacation_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_vacation_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vacation_requests'))
    )
    op.create_index('ix_vacation_requests_tenant_id_status', 'vacation_requests', ['tenant_id', 'status'], unique=False)
    op.create_index('ix_vacation_requests_tenant_id_user_id', 'vacation_requests', ['tenant_id', 'user_id'], unique=False)
    op.create_index(op.f('ix_vacation_requests_awaiting_id'), 'vacation_requests', ['awaiting_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_vacation_requests_awaiting_id'), table_name='vacation_requests')
    op.drop_index('ix_vacation_requests_tenant_id_user_id', table_name='vacation_requests')
    op.drop_index('ix_vacation_requests_tenant_id_status', table_name='vacation_requests')
    op.drop_table('vacation_requests')
    op.drop_table('vacation_policies')
