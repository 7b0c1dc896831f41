"""Baseline: the schema when migrations began

Databases made before then by create_all are adopted at this revision (gongzhi.db.init_db).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-28 06:14:49.552351
"""

import sqlalchemy as sa
from alembic import op

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appsetting',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('area',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('boundary', sa.Text(), nullable=True),
    sa.Column('centroid_lon', sa.Float(), nullable=True),
    sa.Column('centroid_lat', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['leader_id'], ['person.id'], name='fk_area_leader_id', use_alter=True),
    sa.ForeignKeyConstraint(['parent_id'], ['area.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_area_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_area_parent_id'), ['parent_id'], unique=False)

    op.create_table('auditentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_record', ['table_name', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_at'), ['at'], unique=False)

    op.create_table('loginattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('loginattempt', schema=None) as batch_op:
        batch_op.create_index('ix_loginattempt_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_loginattempt_username_at', ['username', 'at'], unique=False)

    op.create_table('meeting',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attendees', sa.Text(), nullable=False),
    sa.Column('quorum', sa.Integer(), nullable=False),
    sa.Column('quorum_met', sa.Boolean(), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_held_at'), ['held_at'], unique=False)

    op.create_table('organisation',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('contact_name', sa.String(length=40), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)

    op.create_table('revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('event',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('host_org_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['host_org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_starts_at'), ['starts_at'], unique=False)

    op.create_table('facility',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['area.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facility_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_facility_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_facility_kind'), ['kind'], unique=False)

    op.create_table('person',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['area.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_phone'), ['phone'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'person_id')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_person_id'), ['person_id'], unique=False)

    op.create_table('issue',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('days_to_resolve', sa.Float(), nullable=True),
    sa.Column('resolved_on_time', sa.Boolean(), nullable=True),
    sa.Column('resolved_in_grid', sa.Boolean(), nullable=True),
    sa.Column('went_to_meeting', sa.Boolean(), nullable=False),
    sa.Column('lead_org_id', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=20), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('fix_status', sa.String(length=16), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['grid_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['lead_org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index('ix_issue_grid_reported', ['grid_id', 'reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_lead_org_id'), ['lead_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_reported_at'), ['reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_resolved_at'), ['resolved_at'], unique=False)
        batch_op.create_index('ix_issue_state_grid', ['state', 'grid_id'], unique=False)

    op.create_table('user',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('oidc_subject', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('oidc_subject'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_deleted_at'), ['deleted_at'], unique=False)

    op.create_table('volunteer',
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('skills', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id')
    )
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_status'), ['status'], unique=False)

    op.create_table('agendaitem',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=True),
    sa.Column('decision_note', sa.String(length=1000), nullable=False),
    sa.Column('votes_for', sa.Integer(), nullable=False),
    sa.Column('votes_against', sa.Integer(), nullable=False),
    sa.Column('votes_abstain', sa.Integer(), nullable=False),
    sa.Column('lead_org_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['lead_org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['merged_into_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agendaitem', schema=None) as batch_op:
        batch_op.create_index('ix_agenda_meeting_position', ['meeting_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_agendaitem_issue_id'), ['issue_id'], unique=False)

    op.create_table('issuecooperator',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('issue_id', 'organisation_id')
    )
    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('fix_status', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('rated_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_issue_id'), ['issue_id'], unique=False)

    op.create_table('servicerecord',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('served_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('servicerecord', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_servicerecord_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_servicerecord_served_on'), ['served_on'], unique=False)
        batch_op.create_index('ix_servicerecord_volunteer_day', ['volunteer_id', 'served_on'], unique=False)

    op.create_table('teammembership',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], ),
    sa.PrimaryKeyConstraint('volunteer_id', 'organisation_id')
    )
    with op.batch_alter_table('teammembership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teammembership_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('timelineentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timelineentry', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_issue_at', ['issue_id', 'created_at'], unique=False)

    op.create_table('usergrid',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['area.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'grid_id')
    )

    # Area and person refer to each other: where the database can ALTER, area's key to its
    # leader is added once person exists (CREATE TABLE left it out); SQLite keeps it inline.
    if op.get_bind().dialect.supports_alter:
        op.create_foreign_key("fk_area_leader_id", "area", "person", ["leader_id"], ["id"])
    op.bulk_insert(sa.table("revision", sa.column("id", sa.Integer), sa.column("value", sa.Integer)),
                   [{"id": 1, "value": 0}])


def downgrade() -> None:
    if op.get_bind().dialect.supports_alter:
        op.drop_constraint("fk_area_leader_id", "area", type_="foreignkey")
    op.drop_table('usergrid')
    with op.batch_alter_table('timelineentry', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_issue_at')

    op.drop_table('timelineentry')
    with op.batch_alter_table('teammembership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teammembership_organisation_id'))

    op.drop_table('teammembership')
    with op.batch_alter_table('servicerecord', schema=None) as batch_op:
        batch_op.drop_index('ix_servicerecord_volunteer_day')
        batch_op.drop_index(batch_op.f('ix_servicerecord_served_on'))
        batch_op.drop_index(batch_op.f('ix_servicerecord_event_id'))

    op.drop_table('servicerecord')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_issue_id'))

    op.drop_table('rating')
    op.drop_table('issuecooperator')
    with op.batch_alter_table('agendaitem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agendaitem_issue_id'))
        batch_op.drop_index('ix_agenda_meeting_position')

    op.drop_table('agendaitem')
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_status'))
        batch_op.drop_index(batch_op.f('ix_volunteer_grid_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_deleted_at'))

    op.drop_table('volunteer')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_deleted_at'))

    op.drop_table('user')
    with op.batch_alter_table('issue', schema=None) as batch_op:
        batch_op.drop_index('ix_issue_state_grid')
        batch_op.drop_index(batch_op.f('ix_issue_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_issue_reported_at'))
        batch_op.drop_index(batch_op.f('ix_issue_lead_org_id'))
        batch_op.drop_index('ix_issue_grid_reported')
        batch_op.drop_index(batch_op.f('ix_issue_deleted_at'))
        batch_op.drop_index(batch_op.f('ix_issue_category'))

    op.drop_table('issue')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_person_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_event_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_phone'))
        batch_op.drop_index(batch_op.f('ix_person_grid_id'))
        batch_op.drop_index(batch_op.f('ix_person_deleted_at'))

    op.drop_table('person')
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facility_kind'))
        batch_op.drop_index(batch_op.f('ix_facility_grid_id'))
        batch_op.drop_index(batch_op.f('ix_facility_deleted_at'))

    op.drop_table('facility')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_starts_at'))
        batch_op.drop_index(batch_op.f('ix_event_kind'))
        batch_op.drop_index(batch_op.f('ix_event_grid_id'))
        batch_op.drop_index(batch_op.f('ix_event_deleted_at'))

    op.drop_table('event')
    op.drop_table('revision')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))
        batch_op.drop_index(batch_op.f('ix_organisation_deleted_at'))

    op.drop_table('organisation')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_held_at'))
        batch_op.drop_index(batch_op.f('ix_meeting_deleted_at'))

    op.drop_table('meeting')
    with op.batch_alter_table('loginattempt', schema=None) as batch_op:
        batch_op.drop_index('ix_loginattempt_username_at')
        batch_op.drop_index('ix_loginattempt_address_at')

    op.drop_table('loginattempt')
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditentry_at'))
        batch_op.drop_index(batch_op.f('ix_auditentry_actor'))
        batch_op.drop_index('ix_audit_record')

    op.drop_table('auditentry')
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_parent_id'))
        batch_op.drop_index(batch_op.f('ix_area_level'))
        batch_op.drop_index(batch_op.f('ix_area_deleted_at'))

    op.drop_table('area')
    op.drop_table('appsetting')
