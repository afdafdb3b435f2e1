"""roles (job positions) and their tree, user groups with permission grants, the
organisation's record-visibility setting (issue 17 items 4 and 5)

Revision ID: core_0014
Revises: core_0013
Create Date: 2026-12-07 19:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db


revision: str = 'core_0014'
down_revision: str | Sequence[str] | None = 'core_0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['roles.id'], name=op.f('fk_roles_parent_id_roles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_roles_tenant_id_name'))
    )
    op.create_table('role_hierarchy',
    sa.Column('ancestor_id', sa.Integer(), nullable=False),
    sa.Column('descendant_id', sa.Integer(), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ancestor_id'], ['roles.id'], name=op.f('fk_role_hierarchy_ancestor_id_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['descendant_id'], ['roles.id'], name=op.f('fk_role_hierarchy_descendant_id_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ancestor_id', 'descendant_id', name=op.f('pk_role_hierarchy'))
    )
    with op.batch_alter_table('role_hierarchy', schema=None) as batch_op:
        batch_op.create_index('ix_role_hierarchy_descendant_id', ['descendant_id', 'ancestor_id'], unique=False)
    op.create_table('user_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', gateway.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_user_groups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_groups')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_user_groups_tenant_id_name'))
    )
    op.create_table('group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['user_groups.id'], name=op.f('fk_group_members_group_id_user_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_members'))
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index('ix_group_members_user_id', ['user_id', 'group_id'], unique=False)
    op.create_table('group_permissions',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['user_groups.id'], name=op.f('fk_group_permissions_group_id_user_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'code', name=op.f('pk_group_permissions'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_role_id_roles'), 'roles', ['role_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_users_role_id', ['role_id'], unique=False)
    with op.batch_alter_table('sharing_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grantee_group_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sharing_rules_grantee_group_id_user_groups'), 'user_groups', ['grantee_group_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'record_visibility',
                sa.Enum('reporting_line', 'role_tree', name='recordvisibility', native_enum=False, length=20),
                nullable=False,
                server_default='reporting_line',
            )
        )
    _seed_system_roles()


def _seed_system_roles() -> None:
    """Existing organisations get the system roles new ones start with: CEO, and Manager
    below it (the seed's "director ejecutivo" and "gerente")."""
    bind = op.get_bind()
    now = gateway.db.utcnow()
    roles = sa.table(
        'roles',
        sa.column('id', sa.Integer), sa.column('tenant_id', sa.Integer),
        sa.column('name', sa.String), sa.column('parent_id', sa.Integer),
        sa.column('builtin', sa.Boolean), sa.column('created_at', gateway.db.UTCDateTime),
    )
    closure = sa.table(
        'role_hierarchy',
        sa.column('ancestor_id', sa.Integer), sa.column('descendant_id', sa.Integer),
        sa.column('depth', sa.Integer),
    )
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants")).all():
        ceo = bind.execute(
            roles.insert().values(tenant_id=tenant_id, name='CEO', parent_id=None, builtin=True, created_at=now).returning(roles.c.id)
        ).scalar_one()
        manager = bind.execute(
            roles.insert().values(tenant_id=tenant_id, name='Manager', parent_id=ceo, builtin=True, created_at=now).returning(roles.c.id)
        ).scalar_one()
        bind.execute(closure.insert(), [
            {'ancestor_id': ceo, 'descendant_id': ceo, 'depth': 0},
            {'ancestor_id': manager, 'descendant_id': manager, 'depth': 0},
            {'ancestor_id': ceo, 'descendant_id': manager, 'depth': 1},
        ])


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('record_visibility')
    with op.batch_alter_table('sharing_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sharing_rules_grantee_group_id_user_groups'), type_='foreignkey')
        batch_op.drop_column('grantee_group_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_role_id')
        batch_op.drop_constraint(batch_op.f('fk_users_role_id_roles'), type_='foreignkey')
        batch_op.drop_column('role_id')
    op.drop_table('group_permissions')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_group_members_user_id')
    op.drop_table('group_members')
    op.drop_table('user_groups')
    with op.batch_alter_table('role_hierarchy', schema=None) as batch_op:
        batch_op.drop_index('ix_role_hierarchy_descendant_id')
    op.drop_table('role_hierarchy')
    op.drop_table('roles')
