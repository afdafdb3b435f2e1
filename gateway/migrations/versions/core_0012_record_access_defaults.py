"""default record access per entity and organisation (issue 17 item 6)

Revision ID: core_0012
Revises: core_0011
Create Date: 2026-12-07 19:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'core_0012'
down_revision: str | Sequence[str] | None = 'core_0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('record_access_defaults',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=60), nullable=False),
    sa.Column('access', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_record_access_defaults_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'entity', name=op.f('pk_record_access_defaults'))
    )


def downgrade() -> None:
    op.drop_table('record_access_defaults')
