"""Revisions per community (gongzhi.parts): counters of the issues and of the attendance of each
community, kept by triggers in every writing transaction, so that a save in one community leaves
the cached parts of the others valid. The awaiting-screening index becomes partial.

Revision ID: 0009_community_parts
Revises: 0008_user_preference
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_community_parts"
down_revision = "0008_user_preference"
branch_labels = None
depends_on = None

STRIPES = 8  # a PostgreSQL transaction bumps the stripe of its transaction number (SQLite: one writer, stripe 0)

# Each kept table: (kind of part, the SQL of the grid a row of it belongs to, given the row's name).
# A row's part is its grid's parent area (the community), 0 when it has none.
KEPT: dict[str, tuple[str, str]] = {
    "issue": ("issues", "{row}.grid_id"),
    "rating": ("issues", "(SELECT grid_id FROM issue WHERE id = {row}.issue_id)"),
    "timelineentry": ("issues", "(SELECT grid_id FROM issue WHERE id = {row}.issue_id)"),
    "residentreport": ("issues", "(SELECT grid_id FROM issue WHERE id = {row}.issue_id)"),
    "attendance": ("attendance", "(SELECT grid_id FROM person WHERE id = {row}.person_id)"),
    "person": ("attendance", "{row}.grid_id"),
}


# An event moved in time, to another grid, or deleted changes the attendance figures of the
# communities of its attendees: their parts are bumped (only when one of these columns is set).
EVENT_COLUMNS = "starts_at, deleted_at, grid_id"


def _attendees_parts(stripe: str) -> str:
    return (f"INSERT INTO partrevision (kind, part, stripe, value) SELECT DISTINCT 'attendance', "
            f"COALESCE(area.parent_id, 0), {stripe}, 1 FROM attendance JOIN person ON person.id = attendance.person_id "
            "LEFT JOIN area ON area.id = person.grid_id WHERE attendance.event_id = NEW.id "
            "ON CONFLICT (kind, part, stripe) DO UPDATE SET value = partrevision.value + 1;")


def _part(grid: str) -> str:
    return f"COALESCE((SELECT parent_id FROM area WHERE id = {grid}), 0)"


def part_triggers(dialect: str) -> list[str]:
    """Triggers that bump the part of every row written (both parts when a row moves)."""
    if dialect == "postgresql":
        statements = [f"""CREATE OR REPLACE FUNCTION partrevision_bump(bumped_kind text, grid integer) RETURNS void
LANGUAGE sql AS $$
INSERT INTO partrevision (kind, part, stripe, value)
VALUES (bumped_kind, {_part('grid')}, (txid_current() % {STRIPES})::integer, 1)
ON CONFLICT (kind, part, stripe) DO UPDATE SET value = partrevision.value + 1
$$"""]
        for table, (kind, grid) in KEPT.items():
            statements += [f"""CREATE OR REPLACE FUNCTION partrevision_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM partrevision_bump('{kind}', {grid.format(row='OLD')}); END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM partrevision_bump('{kind}', {grid.format(row='NEW')}); END IF;
    RETURN NULL;
END $$""",
                           f"CREATE TRIGGER {table}_partrevision AFTER INSERT OR UPDATE OR DELETE ON {table} "
                           f"FOR EACH ROW EXECUTE FUNCTION partrevision_{table}()"]
        statements += [f"""CREATE OR REPLACE FUNCTION partrevision_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_attendees_parts(f"(txid_current() % {STRIPES})::integer")}
    RETURN NULL;
END $$""",
                       f"CREATE TRIGGER event_partrevision AFTER UPDATE OF {EVENT_COLUMNS} ON event "
                       "FOR EACH ROW EXECUTE FUNCTION partrevision_event()"]
        return statements

    # SQLite: "INSERT … ON CONFLICT" in a trigger needs a WHERE on its SELECT form to parse.
    def bump(kind: str, grid: str) -> str:
        return (f"INSERT INTO partrevision (kind, part, stripe, value) SELECT '{kind}', {_part(grid)}, 0, 1 "
                "WHERE true ON CONFLICT (kind, part, stripe) DO UPDATE SET value = partrevision.value + 1;")
    statements = []
    for table, (kind, grid) in KEPT.items():
        old, new = bump(kind, grid.format(row="OLD")), bump(kind, grid.format(row="NEW"))
        statements += [f"CREATE TRIGGER {table}_partrevision_insert AFTER INSERT ON {table} BEGIN {new} END",
                       f"CREATE TRIGGER {table}_partrevision_delete AFTER DELETE ON {table} BEGIN {old} END",
                       f"CREATE TRIGGER {table}_partrevision_update AFTER UPDATE ON {table} BEGIN {old} {new} END"]
    statements.append(f"CREATE TRIGGER event_partrevision_update AFTER UPDATE OF {EVENT_COLUMNS} ON event "
                      f"BEGIN {_attendees_parts('0')} END")
    return statements


def drop_part_triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [statement for table in KEPT for statement in (
            f"DROP TRIGGER {table}_partrevision ON {table}", f"DROP FUNCTION IF EXISTS partrevision_{table}()")
        ] + ["DROP TRIGGER event_partrevision ON event", "DROP FUNCTION IF EXISTS partrevision_event()",
             "DROP FUNCTION IF EXISTS partrevision_bump(text, integer)"]
    return [f"DROP TRIGGER {table}_partrevision_{event}" for table in KEPT for event in ("insert", "delete", "update")
            ] + ["DROP TRIGGER event_partrevision_update"]


def upgrade() -> None:
    op.create_table(
        "partrevision",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("stripe", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "part", "stripe"),
    )
    for statement in part_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    # Not in batch mode: a table SQLite rebuilds would lose its triggers.
    op.drop_index("ix_issue_awaiting_screening", table_name="issue")
    op.create_index("ix_issue_awaiting_screening", "issue", ["awaiting_screening"], unique=False,
                    sqlite_where=sa.text("awaiting_screening IS 1"), postgresql_where=sa.text("awaiting_screening"))


def downgrade() -> None:
    op.drop_index("ix_issue_awaiting_screening", table_name="issue")
    op.create_index("ix_issue_awaiting_screening", "issue", ["awaiting_screening"], unique=False)
    for statement in drop_part_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("partrevision")
