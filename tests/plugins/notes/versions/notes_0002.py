"""note assignments (test plugin): the access engine's assignment grant"""

import sqlalchemy as sa
from alembic import op

revision = "notes_0002"
down_revision = "notes_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "test_note_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["test_notes.id"],
            name=op.f("fk_test_note_assignments_note_id_test_notes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_test_note_assignments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_test_note_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_note_assignments")),
        sa.UniqueConstraint("note_id", "slot", name=op.f("uq_test_note_assignments_note_id_slot")),
    )
    op.create_index(
        "ix_test_note_assignments_user_id_note_id",
        "test_note_assignments",
        ["user_id", "note_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_test_note_assignments_user_id_note_id", "test_note_assignments")
    op.drop_table("test_note_assignments")
