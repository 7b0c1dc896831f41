"""The language a meeting's minutes are written in.

Revision ID: 0002_meeting_language
Revises: 0001_baseline
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_meeting_language"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Meetings held before this column existed were minuted in Chinese.
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default="zh-CN"))


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("language")
