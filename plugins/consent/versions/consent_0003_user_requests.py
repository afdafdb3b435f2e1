"""consent: requests and ledger entries of users (employees, ``USER`` configurations)

Revision ID: consent_0003
Revises: consent_0002
Create Date: 2026-12-07 19:30:00

A request (and each ledger entry) names the client asked or, for a ``USER``
configuration, the user: ``contact_id`` becomes nullable and ``user_id`` is added to both.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'consent_0003'
down_revision: str | Sequence[str] | None = 'consent_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('consent_requests', 'consent_ledger'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
            batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=True)
            batch_op.create_foreign_key(
                op.f(f'fk_{table}_user_id_users'), 'users', ['user_id'], ['id'], ondelete='CASCADE'
            )
            batch_op.create_index(
                f'ix_{table}_tenant_id_user_id', ['tenant_id', 'user_id', 'id'], unique=False
            )


def downgrade() -> None:
    for table in ('consent_ledger', 'consent_requests'):
        op.execute(sa.text(f'DELETE FROM {table} WHERE contact_id IS NULL'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_tenant_id_user_id')
            batch_op.drop_constraint(op.f(f'fk_{table}_user_id_users'), type_='foreignkey')
            batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_column('user_id')
