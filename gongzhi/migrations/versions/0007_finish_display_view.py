"""Which view a display link opens: the slideshow (every link made so far) or the live meeting.

Revision ID: 0007_finish_display_view
Revises: 0007_public311_apikeys
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_finish_display_view"
down_revision = "0007_public311_apikeys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("displaylink", schema=None) as batch_op:
        batch_op.add_column(sa.Column("view", sa.String(length=16), nullable=False, server_default="slideshow"))


def downgrade() -> None:
    with op.batch_alter_table("displaylink", schema=None) as batch_op:
        batch_op.drop_column("view")
