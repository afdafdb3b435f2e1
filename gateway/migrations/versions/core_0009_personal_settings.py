"""personal settings of users (MISSION I3): language, time zone, email signature, photo

Revision ID: core_0009
Revises: core_0008
Create Date: 2026-12-07 16:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'core_0009'
down_revision: str | Sequence[str] | None = 'core_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=60), nullable=True))
        batch_op.add_column(
            sa.Column('email_signature', sa.Text(), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('photo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('photo_mime', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('photo_mime')
        batch_op.drop_column('photo')
        batch_op.drop_column('email_signature')
        batch_op.drop_column('timezone')
        batch_op.drop_column('language')
