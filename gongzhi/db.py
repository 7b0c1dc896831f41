"""Engine and sessions. One engine per DATABASE_URL; SQLite runs in WAL mode with a busy
timeout, and write transactions start with BEGIN IMMEDIATE so that a read-then-write cannot
silently overwrite another session's commit."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from gongzhi import models
from gongzhi.audit import AUDIT_KEY
from gongzhi.config import database_url
from gongzhi.permissions import SYSTEM_ACTOR, Actor

_engines: dict[str, Engine] = {}
SQLITE_BUSY_TIMEOUT_MS = 10_000


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
    url = url or database_url()
    engine = _engines.get(url)
    if engine is None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def init_db(engine: Engine | None = None) -> None:
    """Create the schema if it is missing (idempotent) and the revision row."""
    engine = engine or get_engine()
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(models.Revision, 1) is None:
            session.add(models.Revision(id=1, value=0))
            session.commit()


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    with Session(engine or get_engine()) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None, *, actor: "Actor | None" = None) -> Iterator[Session]:
    """A transaction for one user action: all of it is committed, or none of it. Bumps the data
    revision in the same transaction so every cache sees the change, and records every changed
    row in the audit trail under `actor` (the system when none is given)."""
    engine = (engine or get_engine()).execution_options(sqlite_immediate=True)
    with Session(engine) as session:
        session.info[AUDIT_KEY] = actor or SYSTEM_ACTOR
        try:
            yield session
            session.flush()
            bump_revision(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise


def bump_revision(session: Session) -> None:
    session.execute(update(models.Revision).where(models.Revision.id == 1).values(value=models.Revision.value + 1))


def current_revision(session: Session) -> int:
    return session.execute(select(models.Revision.value).where(models.Revision.id == 1)).scalar_one_or_none() or 0


def is_empty(session: Session) -> bool:
    return session.execute(select(models.Area.id).limit(1)).first() is None
