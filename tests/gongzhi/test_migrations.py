"""Schema migrations (alembic), on SQLite and on PostgreSQL (GONGZHI_TEST_DATABASE_URL): the
models and the newest revision agree, every revision goes up and down, a database made before
migrations existed is adopted, and two processes starting at once migrate once."""

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlmodel import SQLModel

from gongzhi import cli
from gongzhi.db import (
    BASELINE_REVISION,
    SchemaMismatch,
    alembic_config,
    current_revision,
    downgrade,
    get_engine,
    head_revisions,
    init_db,
    read_session,
    schema_revisions,
    upgrade,
)
from gongzhi.models import Organisation


def _differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                SQLModel.metadata)


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_the_models_and_the_newest_migration_agree(new_database):
    """When this fails, a model changed without a migration: run
    `python -m gongzhi make-migration "what changed"` and commit the file it writes."""
    engine = get_engine(new_database())
    init_db(engine)
    assert _differences(engine) == []
    assert _tables(engine) == set(SQLModel.metadata.tables)
    with engine.connect() as connection:
        assert schema_revisions(connection) == head_revisions()


def test_every_revision_upgrades_and_downgrades(new_database):
    engine = get_engine(new_database())
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    assert revisions[0] == BASELINE_REVISION and len(script.get_heads()) == 1  # one line of history
    for previous, revision in zip(["base", *revisions], revisions, strict=False):
        upgrade(engine, revision)
        downgrade(engine, previous)
        upgrade(engine, revision)
    assert _differences(engine) == []
    downgrade(engine, "base")
    assert _tables(engine) == set()
    upgrade(engine)
    assert _differences(engine) == []
    with read_session(engine) as session:
        assert current_revision(session) == 0  # the revision row is part of the schema


def test_the_cli_migrates_up_and_down(new_database, capsys):
    url = new_database()
    assert cli.main(["--database-url", url, "migrate"]) == 0
    assert f"schema revision {', '.join(sorted(head_revisions()))}." in capsys.readouterr().out
    assert _tables(get_engine(url)) == set(SQLModel.metadata.tables)
    assert cli.main(["--database-url", url, "migrate", "--downgrade", "base"]) == 0
    assert "base (no tables)" in capsys.readouterr().out
    assert _tables(get_engine(url)) == set()


def _pre_migration_database(url: str) -> None:
    """What create_all made before migrations existed: the baseline's tables and no history."""
    engine = get_engine(url)
    upgrade(engine, BASELINE_REVISION)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


def test_a_database_made_before_migrations_is_adopted_with_its_data(new_database):
    url = new_database()
    _pre_migration_database(url)
    engine = get_engine(url)
    with engine.begin() as connection:  # as the app of that time wrote: the row and its one revision
        connection.execute(text("INSERT INTO organisation (name, kind, description, version) "
                                "VALUES ('老数据', 'committee', '', 1)"))
        connection.execute(text("UPDATE revision SET value = value + 1 WHERE id = 1"))
    init_db(engine)
    with engine.connect() as connection:
        assert schema_revisions(connection) == head_revisions()
    with read_session(engine) as session:
        assert session.execute(select(Organisation.name)).scalars().all() == ["老数据"]
        assert current_revision(session) == 1


def test_a_database_with_unknown_tables_and_no_history_is_refused(new_database):
    url = new_database()
    _pre_migration_database(url)
    engine = get_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaMismatch, match="stray"):
        init_db(engine)
    with engine.connect() as connection:
        assert schema_revisions(connection) == frozenset()  # nothing was stamped


def test_two_processes_starting_together_migrate_once(new_database):
    url = new_database()
    errors: list[BaseException] = []

    def start() -> None:
        try:
            init_db(get_engine(url))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _differences(get_engine(url)) == []


def test_dropping_every_table_then_init_db_rebuilds_the_newest_schema(db_url):
    """What `seed --reset` does before it seeds: the migration history goes with the tables."""
    from gongzhi.seed import drop_all_tables

    engine = get_engine(db_url)
    drop_all_tables(engine)
    assert set(inspect(engine).get_table_names()) == set()
    init_db(engine)
    assert _differences(engine) == []
    with read_session(engine) as session:
        assert current_revision(session) == 0
