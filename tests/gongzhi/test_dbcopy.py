"""Moving a database: `copy_database` on whichever backend the tests run, and
`python -m gongzhi migrate-sqlite-to-postgres` from a SQLite file to PostgreSQL (when the tests
have a PostgreSQL server, GONGZHI_TEST_DATABASE_URL)."""

import re

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from gongzhi import cli
from gongzhi.db import current_revision, get_engine, read_session, write_session
from gongzhi.dbcopy import CopyRefused, copy_database
from gongzhi.models import COUNTER_TABLES, Area, Issue, Organisation, Person
from tests.conftest import postgres_server_url, sqlite_url


def _counts(url: str) -> dict[str, int]:
    """Rows per table, but the counters the triggers keep (they count each database's own writes)."""
    with get_engine(url).connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in SQLModel.metadata.tables.items() if name not in COUNTER_TABLES}


def _sample(url: str):
    with read_session(get_engine(url)) as session:
        issue = session.execute(select(Issue).order_by(Issue.id.desc())).scalars().first()
        leaders = session.execute(select(Area.code, Area.leader_id, Area.parent_id).order_by(Area.code)).all()
        return (issue.title, issue.reported_at, issue.resolved_in_grid, issue.days_to_resolve), leaders, \
            current_revision(session)


def test_every_row_is_copied_and_new_ids_follow_the_copied_ones(demo_url, new_database):
    target = new_database()
    report = copy_database(get_engine(demo_url), get_engine(target))
    source_counts = _counts(demo_url)
    assert _counts(target) == source_counts
    assert {table.table: table.rows for table in report} == source_counts
    assert source_counts["issue"] == 400 and source_counts["person"] > 0
    assert _sample(target) == _sample(demo_url)
    assert any(leader is not None for _code, leader, _parent in _sample(target)[1])  # area ↔ person keys restored
    with write_session(get_engine(target)) as session:
        organisation = Organisation(name="迁移后新建", kind="committee")
        person = Person(name="新居民")
        session.add_all([organisation, person])
        session.flush()
        new_ids = organisation.id, person.id
    assert new_ids == (source_counts["organisation"] + 1, source_counts["person"] + 1)


def test_a_target_holding_data_is_refused_and_left_alone(demo_url, db_url):
    with write_session(get_engine(db_url)) as session:
        session.add(Organisation(name="已有数据", kind="committee"))
    before = _counts(db_url)
    with pytest.raises(CopyRefused, match="organisation"):
        copy_database(get_engine(demo_url), get_engine(db_url))
    assert _counts(db_url) == before


def test_the_command_wants_sqlite_then_postgresql(demo_url, tmp_path, capsys):
    assert cli.main(["migrate-sqlite-to-postgres", demo_url, sqlite_url(tmp_path / "copy.db")]) == 1
    assert "nothing was copied" in capsys.readouterr().err


@pytest.mark.skipif(postgres_server_url() is None,
                    reason="needs a PostgreSQL server: set GONGZHI_TEST_DATABASE_URL (.ci/run does)")
def test_the_command_moves_a_sqlite_database_to_postgresql(demo_url, new_database, tmp_path, capsys):
    sqlite_file = sqlite_url(tmp_path / "committee.db")
    copy_database(get_engine(demo_url), get_engine(sqlite_file))  # the demo as a committee's SQLite file
    target = new_database()
    assert cli.main(["migrate-sqlite-to-postgres", sqlite_file, target]) == 0
    out = capsys.readouterr().out
    assert "every count and checksum matches" in out and re.search(r"^issue +400 rows .* ok$", out, re.MULTILINE)
    assert _counts(target) == _counts(sqlite_file)
    assert _sample(target) == _sample(sqlite_file)
    assert cli.main(["migrate-sqlite-to-postgres", sqlite_file, target]) == 1  # not twice
    assert "already holds data" in capsys.readouterr().err
