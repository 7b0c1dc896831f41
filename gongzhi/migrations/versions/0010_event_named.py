"""Summary data kept in the writing transaction by triggers: eventnamed, each event's named
attendance (attendance records of persons not deleted), for the event lists.

Revision ID: 0010_event_named
Revises: 0009_community_parts
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_event_named"
down_revision = "0009_community_parts"
branch_labels = None
depends_on = None

_LIVE = "(SELECT deleted_at FROM person WHERE id = {row}.person_id) IS NULL"


def _add_one(row: str, sign: str) -> str:
    """Count `row`'s attendance (+1 or -1) on its event when its person is not deleted."""
    return (f"INSERT INTO eventnamed (event_id, named) SELECT {row}.event_id, {sign}1 WHERE {_LIVE.format(row=row)} "
            "ON CONFLICT (event_id) DO UPDATE SET named = eventnamed.named + excluded.named;")


def _person_events(sign: str) -> str:
    """Count (+1 or -1) a person's attendance on each of their events."""
    return (f"INSERT INTO eventnamed (event_id, named) SELECT event_id, {sign}1 FROM attendance "
            "WHERE person_id = NEW.id ON CONFLICT (event_id) DO UPDATE SET named = eventnamed.named + excluded.named;")


GONE = "OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL"
BACK = "OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL"


def summary_triggers(dialect: str) -> list[str]:
    """Incremental, so concurrent writers add up: an attendance record counts while it exists
    and its person is not deleted; a person deleted or restored takes their records off or back."""
    if dialect == "postgresql":
        return [f"""CREATE OR REPLACE FUNCTION eventnamed_attendance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN {_add_one('OLD', '-')} END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_add_one('NEW', '')} END IF;
    RETURN NULL;
END $$""",
                "CREATE TRIGGER attendance_eventnamed AFTER INSERT OR UPDATE OR DELETE ON attendance "
                "FOR EACH ROW EXECUTE FUNCTION eventnamed_attendance()",
                f"""CREATE OR REPLACE FUNCTION eventnamed_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {GONE} THEN {_person_events('-')} END IF;
    IF {BACK} THEN {_person_events('')} END IF;
    RETURN NULL;
END $$""",
                "CREATE TRIGGER person_eventnamed AFTER UPDATE OF deleted_at ON person "
                "FOR EACH ROW EXECUTE FUNCTION eventnamed_person()"]
    return [f"CREATE TRIGGER attendance_eventnamed_insert AFTER INSERT ON attendance BEGIN {_add_one('NEW', '')} END",
            f"CREATE TRIGGER attendance_eventnamed_delete AFTER DELETE ON attendance BEGIN {_add_one('OLD', '-')} END",
            "CREATE TRIGGER attendance_eventnamed_update AFTER UPDATE OF event_id, person_id ON attendance "
            f"BEGIN {_add_one('OLD', '-')} {_add_one('NEW', '')} END",
            f"CREATE TRIGGER person_eventnamed_gone AFTER UPDATE OF deleted_at ON person WHEN {GONE} "
            f"BEGIN {_person_events('-')} END",
            f"CREATE TRIGGER person_eventnamed_back AFTER UPDATE OF deleted_at ON person WHEN {BACK} "
            f"BEGIN {_person_events('')} END"]


def drop_summary_triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return ["DROP TRIGGER attendance_eventnamed ON attendance", "DROP FUNCTION IF EXISTS eventnamed_attendance()",
                "DROP TRIGGER person_eventnamed ON person", "DROP FUNCTION IF EXISTS eventnamed_person()"]
    return [f"DROP TRIGGER {name}" for name in (
        "attendance_eventnamed_insert", "attendance_eventnamed_delete", "attendance_eventnamed_update",
        "person_eventnamed_gone", "person_eventnamed_back")]


def upgrade() -> None:
    op.create_table(
        "eventnamed",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("named", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    # What is there already, then the triggers that keep it from now on.
    op.execute("INSERT INTO eventnamed (event_id, named) SELECT a.event_id, COUNT(*) FROM attendance a "
               "JOIN person p ON p.id = a.person_id WHERE p.deleted_at IS NULL GROUP BY a.event_id")
    for statement in summary_triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_summary_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("eventnamed")
