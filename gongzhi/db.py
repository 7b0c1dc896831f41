"""Engine, schema and sessions. One engine per DATABASE_URL (SQLite or PostgreSQL).

A read-then-write cannot silently overwrite another session's commit: SQLite (in WAL mode, with a
busy timeout) starts write transactions with BEGIN IMMEDIATE, one at a time; PostgreSQL locks the
rows a write transaction loads (FOR UPDATE), so writes of different rows run side by side. The schema is brought to the newest alembic revision by `init_db`."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine as create_plain_engine
from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, create_engine

from gongzhi import models, revisions
from gongzhi.audit import AUDIT_KEY
from gongzhi.config import database_url
from gongzhi.permissions import SYSTEM_ACTOR, Actor

_engines: dict[str, Engine] = {}
SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a PostgreSQL write waits for the one before it, like SQLite's busy timeout; past it the
# save fails as "busy" (components.forms tries it again).
POSTGRES_LOCK_TIMEOUT = "10s"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001_baseline"
MIGRATION_LOCK_KEY = 0x6F6E677A  # pg_advisory_xact_lock key: one migrator at a time


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event decide how transactions start (pysqlite would defer them).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def get_engine(url: str | None = None) -> Engine:
    """The engine of `url` (default DATABASE_URL), made once. Its errors never quote the values
    of a statement (hide_parameters): they reach logs and tracebacks, values may be personal data."""
    url = url or database_url()
    engine = _engines.get(url)
    if engine is None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def dispose_engine(url: str) -> None:
    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


# -- schema migrations --------------------------------------------------------------------------


class SchemaMismatch(RuntimeError):
    """A database with tables but no migration history that does not look like the baseline."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def schema_revisions(connection: Connection) -> frozenset[str]:
    """The alembic revision(s) the database is at (empty: none, or not under alembic yet)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other migrator can enter at the same time (two app
    servers starting together): SQLite BEGIN IMMEDIATE, PostgreSQL an advisory lock. Committed when
    the block ends. SQLite's foreign keys are off meanwhile (batch mode copies and drops tables)
    and are checked before the commit instead."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
            try:
                connection.execution_options(sqlite_immediate=True)
                with connection.begin():
                    yield connection
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaMismatch(f"the migration left rows with broken foreign keys: {broken[:5]}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
            return
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            yield connection


def init_db(engine: Engine | None = None) -> None:
    """Bring the schema to the newest revision (idempotent and cheap when it is there already).
    A database made before migrations existed (tables, no history) is adopted when its tables
    are the baseline's."""
    engine = engine or get_engine()
    with engine.connect() as connection:
        if schema_revisions(connection) == head_revisions():
            return
    upgrade(engine)


def prepare_database(url: str) -> None:
    """What a starting app does to its database: the schema brought to the newest revision and,
    for a new default database (config.wants_demo), the demo community seeded."""
    from gongzhi.config import wants_demo

    engine = get_engine(url)
    init_db(engine)
    if wants_demo(url):
        from gongzhi.seed import ensure_demo

        ensure_demo(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    with migration_connection(engine) as connection:
        if not schema_revisions(connection) and _table_columns(connection):
            _adopt_pre_migration_database(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with migration_connection(engine) as connection:
        command.downgrade(alembic_config(connection), revision)


def _table_columns(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names() if table != "alembic_version"}


def _adopt_pre_migration_database(connection: Connection) -> None:
    """Stamp the baseline on a database that create_all made, after checking that it has exactly
    the baseline's tables and columns (built in memory to compare)."""
    reference = create_plain_engine("sqlite://")
    try:
        with reference.begin() as reference_connection:
            command.upgrade(alembic_config(reference_connection), BASELINE_REVISION)
            expected = _table_columns(reference_connection)
    finally:
        reference.dispose()
    found = _table_columns(connection)
    if found != expected:
        differences = sorted(set(found) ^ set(expected)) + sorted(
            f"{table}.{column}" for table in set(found) & set(expected) for column in found[table] ^ expected[table])
        raise SchemaMismatch("the database has tables but no migration history, and they differ from the "
                             f"baseline schema ({', '.join(differences[:10])}); migrate it by hand or start empty")
    command.stamp(alembic_config(connection), BASELINE_REVISION)


# -- sessions -----------------------------------------------------------------------------------


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    with Session(engine or get_engine()) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None, *, actor: "Actor | None" = None) -> Iterator[Session]:
    """A transaction for one user action: all of it is committed, or none of it. Notes every table
    the transaction writes and bumps the revisions of those kinds of data in the same transaction
    (gongzhi.revisions), so every cache reading them sees the change (one that wrote nothing bumps
    nothing), and records every changed row in the audit trail under `actor` (the system when none
    is given).

    PostgreSQL: every row an ORM query loads in the transaction is locked (FOR UPDATE, see
    `_lock_rows_read`), so a read-then-write of the same rows waits for the writer before it;
    writes of other rows (another community's) do not wait at all."""
    engine = (engine or get_engine()).execution_options(sqlite_immediate=True)
    with Session(engine) as session:
        session.info[AUDIT_KEY] = actor or SYSTEM_ACTOR
        written, connection_info = revisions.start_noting_writes(session.connection())
        try:
            if engine.dialect.name == "postgresql":
                session.info[LOCK_ROWS_READ_KEY] = True
                session.execute(text(f"SET LOCAL lock_timeout = '{POSTGRES_LOCK_TIMEOUT}'"))
            yield session
            session.flush()
            revisions.stop_noting_writes(connection_info)
            if written:  # a transaction that wrote nothing changed nothing: every cache stays valid
                revisions.bump(session, written)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            revisions.stop_noting_writes(connection_info)


LOCK_ROWS_READ_KEY = "lock_rows_read"  # session.info: ORM entity loads take FOR UPDATE (PostgreSQL)


@event.listens_for(OrmSession, "do_orm_execute")
def _lock_rows_read(state) -> None:
    """In a PostgreSQL write session, a SELECT that loads whole rows of one table (session.get,
    select(Model).where(...)) locks them FOR UPDATE: the read-then-write of a save is atomic against
    another save of the same rows, as when every write took one global lock, but without one.
    Aggregates, DISTINCT and joins are left as they are (FOR UPDATE is not allowed there)."""
    if not state.session.info.get(LOCK_ROWS_READ_KEY) or not state.is_select:
        return
    statement = state.statement
    if getattr(statement, "_for_update_arg", None) is not None or statement._group_by_clauses \
            or statement._distinct or statement._setup_joins or len(statement.get_final_froms()) != 1:
        return
    descriptions = statement.column_descriptions
    if not descriptions or any(d.get("entity") is None or d.get("expr") is not d.get("entity") for d in descriptions):
        return
    state.statement = statement.with_for_update(key_share=True)  # FOR NO KEY UPDATE: new rows may refer to it


def bump_revision(connection: Connection | Session) -> None:
    """A whole-database operation: every cached result is stale (the generation moves)."""
    revisions.bump_generation(connection)


def current_revision(session: Session) -> int:
    """One number that moves at every write transaction (gongzhi.revisions.total)."""
    return revisions.total(session)


def is_empty(session: Session) -> bool:
    return session.execute(select(models.Area.id).limit(1)).first() is None
