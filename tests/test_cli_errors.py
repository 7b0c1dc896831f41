"""The command line's errors: one line on standard error that names no value (a table, a row's key
and a column at most), exit status 1; a busy database is said to be busy; a full traceback only
with --debug, and masked. And `migrate-sqlite-to-postgres` names the row the target refuses,
leaving the target empty."""

import io
import re
import sqlite3
import sys

import psycopg.errors
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import SQLModel

from gongzhi import backup, cli, db
from gongzhi.db import get_engine, init_db
from gongzhi.dbcopy import copy_database
from gongzhi.dberrors import DatabaseProblem, database_problem
from gongzhi.i18n import translate
from gongzhi.models import Event, Person, User
from tests.components.test_forms import hold_write_lock
from tests.conftest import postgres_server_url, sqlite_url
from tests.import_files import ROSTER, ROSTER_HEADER, csv_bytes, make_community

PHONE, ID_NUMBER = "13800138000", "44030619800101123X"
BUSY = translate("en", "errors.database_busy")


def error_lines(capsys) -> list[str]:
    """What the CLI said on stderr, without its progress lines ("Writing 3/3…": a long import
    reports how far it got before a failure, which is not an error line)."""
    progress = re.compile(re.escape(translate("en", "imports.writing", done="0", total="0")).replace("0", r"\d+"))
    return [line for line in capsys.readouterr().err.splitlines() if not progress.fullmatch(line)]


def count(url: str, model) -> int:
    with get_engine(url).connect() as connection:
        return connection.execute(select(func.count()).select_from(model.__table__)).scalar_one()


# -- a busy database ----------------------------------------------------------------------------


@pytest.fixture
def short_waits(monkeypatch, tmp_path):
    """Waits for a lock of 100 ms instead of 10 s (SQLite, PostgreSQL) and 30 s (restore)."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(db, "POSTGRES_LOCK_TIMEOUT", "100ms")
    monkeypatch.setattr(backup, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setenv("GONGZHI_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-password\n"))


def _close_unrated(url, tmp_path):
    """An issue whose review has expired: close-unrated has something to write (a run with nothing
    to close writes nothing, and a busy database is then no obstacle)."""
    from datetime import timedelta

    from gongzhi.clock import now
    from gongzhi.domain import RATING_WINDOW_DAYS, IssueState
    from gongzhi.models import Area, Issue

    resolved = now() - timedelta(days=RATING_WINDOW_DAYS + 3)
    with db.write_session(get_engine(url)) as session:
        grid_id = session.execute(select(Area.id).where(Area.code == "G01")).scalar_one()
        session.add(Issue(title="早已办结", category="repairs", grid_id=grid_id, state=IssueState.RESIDENT_REVIEW.value,
                          reported_at=resolved - timedelta(days=5), resolved_at=resolved, due_date=resolved.date()))
    return ["close-unrated"]


def _import_file(url, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(ROSTER_HEADER, ROSTER, encoding="utf-8"))
    return ["import", "volunteers", str(path)]


def _restore_file(url, tmp_path):
    return ["restore", str(backup.backup(url, tmp_path / "saved.db").path)]


@pytest.mark.parametrize("command", [
    _close_unrated,
    lambda url, tmp_path: ["create-user", "busy.user", "--role", "committee"],
    _import_file,
    pytest.param(_restore_file, marks=pytest.mark.sqlite_only("restore is for SQLite files")),
], ids=["close-unrated", "create-user", "import", "restore"])
def test_a_database_busy_past_the_wait_is_one_clear_line(db_url, tmp_path, short_waits, capsys, command):
    make_community(db_url)
    arguments = ["--database-url", db_url, *command(db_url, tmp_path)]
    get_engine(db_url).dispose()  # new connections, with the short wait
    people, users = count(db_url, Person), count(db_url, User)
    release, holder = hold_write_lock(db_url, seconds=None)
    try:
        status = cli.main(arguments)
    finally:
        release.set()
        holder.join()
    assert status == 1
    assert error_lines(capsys) == [f"error: {BUSY}"]
    assert (count(db_url, Person), count(db_url, User)) == (people, users)  # nothing was written


# -- any other failure --------------------------------------------------------------------------


def test_an_unexpected_fault_is_one_line_and_its_traceback_comes_masked_with_debug(monkeypatch, db_url, capsys):
    def fault(args):
        raise ValueError(f"row ({PHONE}, '{ID_NUMBER}') refused")

    monkeypatch.setattr(cli, "cmd_close_unrated", fault)
    assert cli.main(["--database-url", db_url, "close-unrated"]) == 1
    assert error_lines(capsys) == ["error: unexpected ValueError; nothing more is shown without --debug"]

    assert cli.main(["--database-url", db_url, "--debug", "close-unrated"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected ValueError;")
    assert "Traceback (most recent call last)" in err and "in fault" in err
    assert "ValueError: row (138****8000, '******************') refused" in err
    assert PHONE not in err and ID_NUMBER not in err


def test_a_database_error_is_one_line_without_its_values(monkeypatch, db_url, capsys):
    def refused(args):
        raise IntegrityError("INSERT INTO person (name, phone) VALUES (?, ?)", ("张伟", "+86" + PHONE),
                             sqlite3.IntegrityError("UNIQUE constraint failed: person.phone"))

    monkeypatch.setattr(cli, "cmd_close_unrated", refused)
    assert cli.main(["--database-url", db_url, "close-unrated"]) == 1
    lines = error_lines(capsys)
    assert lines == ["error: The database refused it: duplicate of an existing row for column phone"]


def test_a_damaged_database_file_says_so_and_points_to_a_backup(tmp_path, capsys):
    """Not "cannot be written right now", which invites trying again: a file that is no database
    is damaged, and a backup is what helps."""
    damaged = tmp_path / "gongzhi.db"
    damaged.write_bytes(b"not a database at all, " * 400)
    assert cli.main(["--database-url", sqlite_url(damaged), "close-unrated"]) == 1
    assert error_lines(capsys) == [f"error: {translate('en', 'errors.database_damaged')}"]
    assert "python -m gongzhi restore" in translate("zh-CN", "errors.database_damaged")


def test_a_gongzhi_error_stays_one_line(tmp_path, capsys):
    live = sqlite_url(tmp_path / "live.db")
    assert cli.main(["--database-url", live, "restore", str(tmp_path / "missing.db")]) == 1
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in lines[0]


# -- a row the target refuses -------------------------------------------------------------------


def committee_file(tmp_path) -> str:
    """A committee's SQLite file with a resident (phone and all) whose grid does not exist, as a
    file written without foreign-key checks can hold."""
    url = sqlite_url(tmp_path / "committee.db")
    init_db(get_engine(url))
    get_engine(url).dispose()
    connection = sqlite3.connect(tmp_path / "committee.db")
    connection.execute("INSERT INTO person (id, version, name, phone, created_at) "
                       "VALUES (1, 1, '王芳', '+8613700137000', '2026-01-01 00:00:00')")
    connection.execute("INSERT INTO person (id, version, name, phone, grid_id, created_at) "
                       f"VALUES (2, 1, '张伟', '+86{PHONE}', 999, '2026-01-01 00:00:00')")
    connection.commit()
    connection.close()
    return url


def test_a_refused_row_is_named_by_table_and_id_and_nothing_is_copied(tmp_path, new_database):
    target = new_database()
    with pytest.raises(DatabaseProblem) as refused:
        copy_database(get_engine(committee_file(tmp_path)), get_engine(target))
    message = str(refused.value)
    assert message.startswith("table person, row id 2: refers to a row that does not exist")
    assert PHONE not in message and "张伟" not in message
    with get_engine(target).connect() as connection:  # the target is as empty as before
        assert all(connection.execute(select(func.count()).select_from(table)).scalar_one() == 0
                   for name, table in SQLModel.metadata.tables.items() if name != "revision")


def test_a_value_out_of_range_names_its_column_and_type_without_the_value():
    row = {"id": 3, "headcount": 10 ** 12, "title": "社区读书会"}
    error = DataError("INSERT INTO event …", row, psycopg.errors.NumericValueOutOfRange("integer out of range"))
    problem = database_problem(error, table=Event.__table__, row="id 3", values=row)
    assert str(problem) == "table event, row id 3: value out of range for column headcount (integer)"
    assert problem.message("zh-CN") == "表 event，行 id 3：字段 headcount (integer)：数值超出范围"


@pytest.mark.skipif(postgres_server_url() is None,
                    reason="needs a PostgreSQL server: set GONGZHI_TEST_DATABASE_URL (.ci/run does)")
def test_the_migration_names_the_refused_row_in_one_line_and_leaves_postgresql_empty(tmp_path, new_database, capsys):
    source = committee_file(tmp_path)
    connection = sqlite3.connect(tmp_path / "committee.db")
    connection.execute("UPDATE person SET grid_id = NULL")
    connection.execute("INSERT INTO event (id, version, title, kind, starts_at, ends_at, place, headcount, "
                       "description) VALUES (7, 1, '读书会', 'culture', '2026-01-01 09:00:00', "
                       "'2026-01-01 10:00:00', '', 1000000000000, '')")
    connection.commit()
    connection.close()
    target = new_database()
    assert cli.main(["migrate-sqlite-to-postgres", source, target]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == ["error: table event, row id 7: value out of range for column headcount (integer)"]
    assert PHONE not in out + err and "1000000000000" not in err
    assert count(target, Person) == count(target, Event) == 0
