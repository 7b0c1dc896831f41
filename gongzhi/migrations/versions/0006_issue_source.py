"""Where an issue came from (staff, a resident's own report, Open311, an import) and whether a
resident's report still waits for screening by the grid leader.

Revision ID: 0006_issue_source
Revises: 0005_meeting_minutes_roles
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_issue_source"
down_revision = "0005_meeting_minutes_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=12), nullable=False, server_default="staff"))
        batch_op.add_column(sa.Column("awaiting_screening", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_issue_awaiting_screening", ["awaiting_screening"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_index("ix_issue_awaiting_screening")
        batch_op.drop_column("awaiting_screening")
        batch_op.drop_column("source")
