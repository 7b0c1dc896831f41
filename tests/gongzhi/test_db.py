"""The database layer: SQLite pragmas, the revision every write bumps, all-or-nothing writes,
and optimistic locking."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from gongzhi.db import current_revision, get_engine, init_db, read_session, write_session
from gongzhi.models import Organisation


@pytest.mark.sqlite_only("PRAGMA settings")
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(engine):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_every_write_bumps_the_revision(engine):
    with read_session(engine) as session:
        before = current_revision(session)
    with write_session(engine) as session:
        session.add(Organisation(name="居委会", kind="committee"))
    with read_session(engine) as session:
        assert current_revision(session) == before + 1


def test_a_failed_write_leaves_nothing_behind(engine):
    with pytest.raises(RuntimeError), write_session(engine) as session:
        session.add(Organisation(name="半途", kind="committee"))
        session.flush()
        raise RuntimeError("user error half-way")
    with read_session(engine) as session:
        assert session.execute(text("select count(*) from organisation")).scalar() == 0
        assert current_revision(session) == 0


def test_a_save_against_an_older_version_is_refused(engine):
    with write_session(engine) as session:
        session.add(Organisation(name="物业", kind="property_manager"))
    with Session(engine) as first, Session(engine, expire_on_commit=False) as second:
        theirs = second.get(Organisation, 1)
        second.commit()  # ends the read transaction; the loaded copy (version 1) stays in memory
        mine = first.get(Organisation, 1)
        mine.description = "first"
        first.commit()
        theirs.description = "second"
        with pytest.raises(StaleDataError):
            second.commit()
    with read_session(engine) as session:
        organisation = session.get(Organisation, 1)
        assert (organisation.description, organisation.version) == ("first", 2)


def test_init_db_is_idempotent(new_database):
    engine = get_engine(new_database())
    init_db(engine)
    init_db(engine)
    with read_session(engine) as session:
        assert current_revision(session) == 0


def test_writes_run_one_at_a_time_so_a_read_then_write_loses_nothing(engine):
    """Each writer reads a counter and writes it back plus one, in one write session, from
    threads at the same time (SQLite: BEGIN IMMEDIATE; PostgreSQL: the revision row is locked
    first). None of the increments may be lost, and the revision counts every write."""
    import threading

    with write_session(engine) as session:
        session.add(Organisation(name="计数", kind="committee", description="0"))
    with read_session(engine) as session:
        start = current_revision(session)
    writers, writes_each = 4, 5
    failures: list[BaseException] = []

    def increment() -> None:
        try:
            for _ in range(writes_each):
                with write_session(engine) as session:
                    counter = session.get(Organisation, 1)
                    counter.description = str(int(counter.description) + 1)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=increment) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with read_session(engine) as session:
        assert session.get(Organisation, 1).description == str(writers * writes_each)
        assert current_revision(session) == start + writers * writes_each
