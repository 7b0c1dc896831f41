"""Open311 API keys: other systems (mobile apps) POST service requests with a key an admin issues
and revokes; only its SHA-256 hash is stored.

Revision ID: 0007_public311_apikeys
Revises: 0007_residents
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_public311_apikeys"
down_revision = "0007_residents"  # after the residents branch (merged here); was 0006_issue_source
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apikey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("apikey")
