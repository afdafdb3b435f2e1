"""consent: configurations, requests, blocks, ledger (MISSION K)

Revision ID: consent_0001
Revises: 
Create Date: 2026-12-07 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'consent_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('consent',)
depends_on: str | Sequence[str] | None = ('contacts_0001', 'core_0008')


def upgrade() -> None:
    op.create_table('consent_configurations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('audience', sa.Enum('CLIENT', 'USER', name='audience', native_enum=False, length=20), nullable=False),
    sa.Column('applies_to', sa.JSON(), nullable=False),
    sa.Column('client_kinds', sa.JSON(), nullable=False),
    sa.Column('triggers', sa.JSON(), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=True),
    sa.Column('image_mime', sa.String(length=20), nullable=True),
    sa.Column('link_valid_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_consent_configurations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_configurations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_configurations')),
    sa.UniqueConstraint('tenant_id', 'description', name=op.f('uq_consent_configurations_tenant_id_description'))
    )
    op.create_table('consent_configuration_companies',
    sa.Column('configuration_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['managing_companies.id'], name=op.f('fk_consent_configuration_companies_company_id_managing_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['configuration_id'], ['consent_configurations.id'], name=op.f('fk_consent_configuration_companies_configuration_id_consent_configurations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_configuration_companies_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('configuration_id', 'company_id', name=op.f('pk_consent_configuration_companies'))
    )
    op.create_table('consent_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('QUEUED', 'SENT', 'ACCEPTED', 'DENIED', 'EXPIRED', 'BOUNCED', 'FAILED', 'WITHDRAWN', name='requeststatus', native_enum=False, length=20), nullable=False),
    sa.Column('pending_key', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=400), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['managing_companies.id'], name=op.f('fk_consent_requests_company_id_managing_companies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['configuration_id'], ['consent_configurations.id'], name=op.f('fk_consent_requests_configuration_id_consent_configurations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_requests_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_consent_requests_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_requests')),
    sa.UniqueConstraint('tenant_id', 'pending_key', name=op.f('uq_consent_requests_tenant_id_pending_key'))
    )
    with op.batch_alter_table('consent_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_requests_configuration_id'), ['configuration_id'], unique=False)
        batch_op.create_index('ix_consent_requests_tenant_id_contact_id', ['tenant_id', 'contact_id', 'id'], unique=False)

    op.create_table('consent_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('blocked_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_blocks_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['consent_requests.id'], name=op.f('fk_consent_blocks_request_id_consent_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_blocks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_blocks')),
    sa.UniqueConstraint('tenant_id', 'contact_id', name=op.f('uq_consent_blocks_tenant_id_contact_id'))
    )
    op.create_table('consent_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.Enum('REQUESTED', 'SENT', 'BOUNCED', 'FAILED', 'EXPIRED', 'ACCEPTED', 'DENIED', 'WITHDRAWN', 'UNBLOCK_REQUESTED', 'BLOCK_LIFTED', name='ledgerevent', native_enum=False, length=20), nullable=False),
    sa.Column('channel', sa.Enum('EMAIL', 'LINK', 'API', 'SYSTEM', name='channel', native_enum=False, length=20), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=True),
    sa.Column('configuration', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=True),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=400), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_consent_ledger_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_ledger_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['consent_requests.id'], name=op.f('fk_consent_ledger_request_id_consent_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consent_ledger_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_ledger'))
    )
    with op.batch_alter_table('consent_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_consent_ledger_tenant_id_at', ['tenant_id', 'at'], unique=False)
        batch_op.create_index('ix_consent_ledger_tenant_id_contact_id', ['tenant_id', 'contact_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('consent_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_ledger_tenant_id_contact_id')
        batch_op.drop_index('ix_consent_ledger_tenant_id_at')

    op.drop_table('consent_ledger')
    op.drop_table('consent_blocks')
    with op.batch_alter_table('consent_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_requests_tenant_id_contact_id')
        batch_op.drop_index(batch_op.f('ix_consent_requests_configuration_id'))

    op.drop_table('consent_requests')
    op.drop_table('consent_configuration_companies')
    op.drop_table('consent_configurations')
