"""consent: mass email — mailings and their recipients (MISSION R3, K5)

Revision ID: consent_0002
Revises: consent_0001
Create Date: 2026-12-07 16:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'consent_0002'
down_revision: str | Sequence[str] | None = 'consent_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ('core_0006',)


def upgrade() -> None:
    op.create_table('consent_mailings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('CONTACTS', 'LEADS', name='audience', native_enum=False, length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'QUEUED', 'SENDING', 'SENT', 'INTERRUPTED', name='mailingstatus', native_enum=False, length=20), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_consent_mailings_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_consent_mailings_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_mailings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_mailings'))
    )
    op.create_index('ix_consent_mailings_tenant_id_created_at', 'consent_mailings', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_consent_mailings_tenant_id_created_by_id', 'consent_mailings', ['tenant_id', 'created_by_id'], unique=False)
    op.create_table('consent_mailing_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('mailing_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.Column('given', sa.String(length=254), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'SENDING', 'SENT', 'SKIPPED', 'FAILED', name='recipientstatus', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Enum('NOT_FOUND', 'DUPLICATE', 'NO_EMAIL', 'INVALID_ADDRESS', 'REFUSED', 'DELIVERY_FAILED', 'UNCONFIRMED', name='skipreason', native_enum=False, length=20), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('sent_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mailing_id'], ['consent_mailings.id'], name=op.f('fk_consent_mailing_recipients_mailing_id_consent_mailings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_mailing_recipients_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_mailing_recipients'))
    )
    op.create_index('ix_consent_mailing_recipients_mailing_id_status', 'consent_mailing_recipients', ['mailing_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_consent_mailing_recipients_mailing_id_status', table_name='consent_mailing_recipients')
    op.drop_table('consent_mailing_recipients')
    op.drop_index('ix_consent_mailings_tenant_id_created_by_id', table_name='consent_mailings')
    op.drop_index('ix_consent_mailings_tenant_id_created_at', table_name='consent_mailings')
    op.drop_table('consent_mailings')
