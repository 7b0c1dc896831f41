"""Minutes worth signing: a meeting's chair (主持人) and recorder (记录人), whom it invited (so the
minutes can name who was absent), the co-operating organisations a decision names besides the lead
one, and which items were deferred because the meeting closed before reaching them.

Revision ID: 0005_meeting_minutes_roles
Revises: 0003_unindex_deleted_at
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_meeting_minutes_roles"
down_revision = "0004_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agendaitemcooperator",
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agendaitem.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("agenda_item_id", "organisation_id"),
    )
    with op.batch_alter_table("agendaitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deferred_at_close", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invited", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("chair", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("recorder", sa.String(length=40), nullable=False, server_default=""))
    # Meetings planned before: their attendee list is all that is known of whom they invited.
    op.execute("UPDATE meeting SET invited = attendees")


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("recorder")
        batch_op.drop_column("chair")
        batch_op.drop_column("invited")
    with op.batch_alter_table("agendaitem", schema=None) as batch_op:
        batch_op.drop_column("deferred_at_close")
    op.drop_table("agendaitemcooperator")
