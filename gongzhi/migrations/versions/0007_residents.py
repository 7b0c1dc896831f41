"""Residents' own reports (tracking code, hashed link token, consented phone, screening), their
re-encoded photos, and "me too" supports per issue.

Revision ID: 0007_residents
Revises: 0006_issue_source
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_residents'
down_revision = '0006_issue_source'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issuesupport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issue_id', 'client_address')
    )
    with op.batch_alter_table('issuesupport', schema=None) as batch_op:
        batch_op.create_index('ix_issuesupport_address_at', ['client_address', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issuesupport_issue_id'), ['issue_id'], unique=False)

    op.create_table('residentphoto',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('residentphoto', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residentphoto_issue_id'), ['issue_id'], unique=False)

    op.create_table('residentreport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('consent_at', sa.DateTime(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('screened_at', sa.DateTime(), nullable=True),
    sa.Column('screened_by', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issue_id'),
    sa.UniqueConstraint('token_hash'),
    sa.UniqueConstraint('tracking_code')
    )
    with op.batch_alter_table('residentreport', schema=None) as batch_op:
        batch_op.create_index('ix_residentreport_address_at', ['client_address', 'created_at'], unique=False)
        batch_op.create_index('ix_residentreport_phone_at', ['phone', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('residentreport', schema=None) as batch_op:
        batch_op.drop_index('ix_residentreport_phone_at')
        batch_op.drop_index('ix_residentreport_address_at')

    op.drop_table('residentreport')
    with op.batch_alter_table('residentphoto', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residentphoto_issue_id'))

    op.drop_table('residentphoto')
    with op.batch_alter_table('issuesupport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuesupport_issue_id'))
        batch_op.drop_index('ix_issuesupport_address_at')

    op.drop_table('issuesupport')
