"""calendar: tasks and task categories (MISSION T1)

Revision ID: calendar_0001
Revises: 
Create Date: 2026-11-30 00:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'calendar_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('calendar',)
depends_on: str | Sequence[str] | None = 'contacts_0001'


def upgrade() -> None:
    op.create_table('task_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_task_categories_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_categories')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_task_categories_tenant_id_name'))
    )
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('deadline', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('reminder_minutes', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('access', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'DONE', name='taskstatus', native_enum=False, length=20), nullable=False),
    sa.Column('completed_at', gateway.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['task_categories.id'], name=op.f('fk_tasks_category_id_task_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_tasks_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tasks_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_tasks_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tasks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_tenant_id_access', 'tasks', ['tenant_id', 'access'], unique=False)
    op.create_index('ix_tasks_tenant_id_contact_id', 'tasks', ['tenant_id', 'contact_id'], unique=False)
    op.create_index('ix_tasks_tenant_id_deadline', 'tasks', ['tenant_id', 'deadline', 'id'], unique=False)
    op.create_index('ix_tasks_tenant_id_owner_id_status', 'tasks', ['tenant_id', 'owner_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tasks_tenant_id_owner_id_status', table_name='tasks')
    op.drop_index('ix_tasks_tenant_id_deadline', table_name='tasks')
    op.drop_index('ix_tasks_tenant_id_contact_id', table_name='tasks')
    op.drop_index('ix_tasks_tenant_id_access', table_name='tasks')
    op.drop_table('tasks')
    op.drop_table('task_categories')
