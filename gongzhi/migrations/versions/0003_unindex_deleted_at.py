"""deleted_at is no longer indexed: every list filters on "not deleted", which nearly every row
is, so the index only lured the planner into walking it (bench/RESULTS.md, district benchmark).

Revision ID: 0003_unindex_deleted_at
Revises: 0002_meeting_language
"""

from alembic import op

revision = "0003_unindex_deleted_at"
down_revision = "0002_meeting_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_deleted_at"))

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_deleted_at"))

    with op.batch_alter_table("facility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facility_deleted_at"))

    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_deleted_at"))

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_deleted_at"))

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_deleted_at"))

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_deleted_at"))

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_deleted_at"))

    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_deleted_at"))



def downgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteer_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("facility", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facility_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_deleted_at"), ["deleted_at"], unique=False)

    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_deleted_at"), ["deleted_at"], unique=False)

