"""What an account chose last (the grid of the page filter), to open on next time.

Revision ID: 0008_user_preference
Revises: 0007_scale_revisions
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_user_preference"
down_revision = "0007_scale_revisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "userpreference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["grid_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("userpreference")
