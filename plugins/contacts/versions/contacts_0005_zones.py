"""contacts: the sales team's zones and their users (MISSION M6)

Revision ID: contacts_0005
Revises: contacts_0004
Create Date: 2026-12-01 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'contacts_0005'
down_revision: str | Sequence[str] | None = 'contacts_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_contact_zones_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_zones')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_contact_zones_tenant_id_name'))
    )
    op.create_table('contact_zone_users',
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_contact_zone_users_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contact_zone_users_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['contact_zones.id'], name=op.f('fk_contact_zone_users_zone_id_contact_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('zone_id', 'user_id', name=op.f('pk_contact_zone_users'))
    )
    with op.batch_alter_table('contact_zone_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_zone_users_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_zone_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_zone_users_user_id'))

    op.drop_table('contact_zone_users')
    op.drop_table('contact_zones')
