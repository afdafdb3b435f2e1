"""leads: (tenant_id, access) indexes for the public branch of record visibility

Revision ID: leads_0002
Revises: leads_0001
Create Date: 2026-11-22 22:20:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = 'leads_0002'
down_revision: str | Sequence[str] | None = 'leads_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_leads_tenant_id_access', 'leads', ['tenant_id', 'access'])
    op.create_index(
        'ix_opportunities_tenant_id_access', 'opportunities', ['tenant_id', 'access']
    )


def downgrade() -> None:
    op.drop_index('ix_opportunities_tenant_id_access', table_name='opportunities')
    op.drop_index('ix_leads_tenant_id_access', table_name='leads')
