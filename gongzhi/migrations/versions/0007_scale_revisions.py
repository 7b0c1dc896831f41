"""Data revisions per kind of data, in striped counter rows (gongzhi.revisions): a write bumps only
the kinds it wrote, and no row is locked by every write. The row `revision` stays, as the
generation that whole-database operations bump.

Summary data kept in the writing transaction by triggers: volunteerhours, each volunteer's
all-time service hours (in thousandths), for the star levels.

Revision ID: 0007_scale_revisions
Revises: 0007_finish_display_view
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_scale_revisions"
down_revision = "0007_finish_display_view"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datarevision",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("stripe", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "stripe"),
    )
    op.create_table(
        "volunteerhours",
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("total_millihours", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"]),
        sa.PrimaryKeyConstraint("volunteer_id"),
    )
    # What is there already, then the triggers that keep it from now on.
    op.execute("INSERT INTO volunteerhours (volunteer_id, total_millihours) "
               f"SELECT volunteer_id, SUM({MILLIHOURS.format(row='servicerecord')}) FROM servicerecord "
               "GROUP BY volunteer_id")
    for statement in summary_triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_summary_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("volunteerhours")
    op.drop_table("datarevision")


# A record's hours in thousandths: the one rounding, the same in the triggers and in any check.
MILLIHOURS = "CAST(ROUND({row}.hours * 1000) AS BIGINT)"


def _add(row: str, sign: str) -> str:
    amount = MILLIHOURS.format(row=row)
    return (f"INSERT INTO volunteerhours (volunteer_id, total_millihours) VALUES ({row}.volunteer_id, {sign}{amount}) "
            "ON CONFLICT (volunteer_id) DO UPDATE SET "
            "total_millihours = volunteerhours.total_millihours + excluded.total_millihours")


def summary_triggers(dialect: str) -> list[str]:
    """Triggers that add a service record's hours to its volunteer's total, take them off when it
    goes, and both when it changes: incremental, so concurrent writers never overwrite each other."""
    if dialect == "postgresql":
        return [f"""CREATE OR REPLACE FUNCTION volunteerhours_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN {_add('OLD', '-')}; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_add('NEW', '')}; END IF;
    RETURN NULL;
END $$""",
                "CREATE TRIGGER servicerecord_volunteerhours AFTER INSERT OR UPDATE OR DELETE ON servicerecord "
                "FOR EACH ROW EXECUTE FUNCTION volunteerhours_keep()"]
    # SQLite: "INSERT … ON CONFLICT" in a trigger needs a WHERE on its SELECT form to parse.
    def add(row: str, sign: str) -> str:
        amount = MILLIHOURS.format(row=row)
        return (f"INSERT INTO volunteerhours (volunteer_id, total_millihours) SELECT {row}.volunteer_id, "
                f"{sign}{amount} WHERE true ON CONFLICT (volunteer_id) DO UPDATE SET "
                "total_millihours = volunteerhours.total_millihours + excluded.total_millihours;")
    return [f"CREATE TRIGGER servicerecord_volunteerhours_insert AFTER INSERT ON servicerecord BEGIN {add('NEW', '')} END",
            f"CREATE TRIGGER servicerecord_volunteerhours_delete AFTER DELETE ON servicerecord BEGIN {add('OLD', '-')} END",
            "CREATE TRIGGER servicerecord_volunteerhours_update AFTER UPDATE OF volunteer_id, hours ON servicerecord "
            f"BEGIN {add('OLD', '-')} {add('NEW', '')} END"]


def drop_summary_triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["DROP TRIGGER servicerecord_volunteerhours ON servicerecord", "DROP FUNCTION IF EXISTS volunteerhours_keep()"]
    return [f"DROP TRIGGER servicerecord_volunteerhours_{event}" for event in ("insert", "delete", "update")]
